import { ApiRequestLog, type ApiRequestRecord } from './api-request-log';

const request = (n: number, method = 'GET'): Omit<ApiRequestRecord, 'id'> => ({
  at: n,
  method,
  path: `/api/v4/${n}`,
  query: '',
  route: null,
  status: 200,
  username: null,
  projectId: n % 2,
});

describe('ApiRequestLog', () => {
  it('keeps the newest records of a full ring, oldest first', () => {
    const log = new ApiRequestLog(3);
    for (let n = 1; n <= 5; n += 1) log.add(request(n));
    expect(log.count).toBe(3);
    expect(log.query({ limit: 10 }).map((record) => record.at)).toEqual([3, 4, 5]);
    expect(log.query({ limit: 2 }).map((record) => record.at)).toEqual([4, 5]);
  });

  it('filters by since, methods and project, and empties on clear', () => {
    const log = new ApiRequestLog(10);
    log.add(request(1, 'POST'));
    log.add(request(2, 'GET'));
    log.add(request(3, 'PUT'));
    expect(log.query({ since: 2, limit: 10 }).map((record) => record.at)).toEqual([2, 3]);
    expect(log.query({ methods: new Set(['POST', 'PUT']), limit: 10 }).map((record) => record.at)).toEqual([
      1, 3,
    ]);
    expect(log.query({ projectId: 0, limit: 10 }).map((record) => record.at)).toEqual([2]);
    log.clear();
    expect(log.query({ limit: 10 })).toEqual([]);
    expect(log.add(request(4)).id).toBe(4);
  });
});
