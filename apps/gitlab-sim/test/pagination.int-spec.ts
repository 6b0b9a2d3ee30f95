import { Gitlab } from '@gitbeaker/rest';

import { enc, startTestSim, type TestSim } from './helpers/test-sim';

const LINK = /^<[^>]+>; rel="(prev|next|first|last)"(, <[^>]+>; rel="(prev|next|first|last)")*$/;

describe('pagination exactly as GitLab', () => {
  let t: TestSim;
  let token: string;

  beforeAll(async () => {
    t = await startTestSim();
    await t.client.createUser({ username: 'walker' });
    token = (await t.client.createToken({ username: 'walker' })).token;
    for (const [path, count] of [
      ['big/p250', 250],
      ['big/p10001', 10_001],
    ] as const) {
      await t.client.createProject({ path });
      await t.client.addMember({ project: path, username: 'walker', accessLevel: 30 });
      await t.client.seedIssues(path, { count, closedPercent: 30, priorityLabelsPercent: 50 });
    }
  });

  afterAll(() => t.close());

  const gitlab = () => new Gitlab({ host: t.url, token });
  const iidsOnce = (items: Array<{ iid: number }>, count: number): void => {
    const iids = items.map((item) => item.iid);
    expect(iids).toHaveLength(count);
    expect(new Set(iids).size).toBe(count);
  };

  it('walks 250 issues through Link with @gitbeaker/rest, each exactly once', async () => {
    const issues = await gitlab().Issues.all({ projectId: 'big/p250', perPage: 100 });
    iidsOnce(issues as Array<{ iid: number }>, 250);
  });

  it('walks 10,001 issues through Link with @gitbeaker/rest, each exactly once', async () => {
    const issues = await gitlab().Issues.all({ projectId: 'big/p10001', perPage: 100 });
    iidsOnce(issues as Array<{ iid: number }>, 10_001);
  }, 60_000);

  it('sends the totals below 10,000 records, with x-* headers and rel="last"', async () => {
    const response = await t.api<unknown[]>(
      'GET',
      `/projects/${enc('big/p250')}/issues?per_page=100&page=2`,
      { token },
    );
    expect(response.body).toHaveLength(100);
    const headers = Object.fromEntries(
      ['x-page', 'x-per-page', 'x-next-page', 'x-prev-page', 'x-total', 'x-total-pages'].map((name) => [
        name,
        response.headers.get(name),
      ]),
    );
    expect(headers).toEqual({
      'x-page': '2',
      'x-per-page': '100',
      'x-next-page': '3',
      'x-prev-page': '1',
      'x-total': '250',
      'x-total-pages': '3',
    });
    const link = response.headers.get('link')!;
    expect(link).toMatch(LINK);
    const base = `${t.url}/api/v4/projects/big%2Fp250/issues`;
    expect(link).toBe(
      `<${base}?page=1&per_page=100>; rel="prev", <${base}?page=3&per_page=100>; rel="next", <${base}?page=1&per_page=100>; rel="first", <${base}?page=3&per_page=100>; rel="last"`,
    );
    const last = await t.api<unknown[]>('GET', `/projects/${enc('big/p250')}/issues?per_page=100&page=3`, {
      token,
    });
    expect(last.body).toHaveLength(50);
    expect(last.headers.get('x-next-page')).toBe('');
    expect(last.headers.get('link')).not.toContain('rel="next"');
  });

  it('keeps totals right while the project changes between pages', async () => {
    const total = async (): Promise<number> =>
      Number(
        (
          await t.api('GET', `/projects/${enc('big/p250')}/issues?state=closed&per_page=10`, { token })
        ).headers.get('x-total'),
      );
    const before = await total();
    const open = await t.api<Array<{ iid: number }>>(
      'GET',
      `/projects/${enc('big/p250')}/issues?state=opened&per_page=1`,
      { token },
    );
    await t.client.closeIssue('big/p250', open.body[0]!.iid, 'walker');
    expect(await total()).toBe(before + 1);
  });

  it('omits x-total, x-total-pages and rel="last" above 10,000 records', async () => {
    const response = await t.api<unknown[]>('GET', `/projects/${enc('big/p10001')}/issues?per_page=100`, {
      token,
    });
    expect(response.body).toHaveLength(100);
    expect(response.headers.get('x-total')).toBeNull();
    expect(response.headers.get('x-total-pages')).toBeNull();
    expect(response.headers.get('x-next-page')).toBe('2');
    const link = response.headers.get('link')!;
    expect(link).toMatch(LINK);
    expect(link).toContain('rel="next"');
    expect(link).not.toContain('rel="last"');
    const filtered = await t.api('GET', `/projects/${enc('big/p10001')}/issues?per_page=100&state=closed`, {
      token,
    });
    expect(Number(filtered.headers.get('x-total'))).toBeGreaterThan(2_000);
  });

  it('caps per_page at 100 and keeps other query parameters in the links', async () => {
    const response = await t.api<unknown[]>(
      'GET',
      `/projects/${enc('big/p250')}/issues?per_page=500&state=all&labels=Any`,
      { token },
    );
    expect(response.headers.get('x-per-page')).toBe('100');
    expect(response.headers.get('link')).toContain('labels=Any&page=2&per_page=100&state=all>; rel="next"');
    const scoped = await t.api('GET', `/projects/${enc('big/p250')}/issues?labels=priority::high`, { token });
    expect(scoped.headers.get('link')).toContain('labels=priority%3A%3Ahigh&page=1&per_page=20');
  });

  it('refuses offsets beyond 50,000 on issues with 405, pointing at keyset pagination', async () => {
    const response = await t.api('GET', `/projects/${enc('big/p10001')}/issues?per_page=100&page=501`, {
      token,
    });
    expect(response.status).toBe(405);
    expect(response.body).toEqual({
      error:
        'Offset pagination has a maximum allowed offset of 50000 for requests that return objects of type Issue. Remaining records can be retrieved using keyset pagination.',
    });
  });

  it('keyset-paginates project issues with only a rel="next" link carrying the cursor', async () => {
    const seen: number[] = [];
    let url: string | undefined =
      `${t.url}/api/v4/projects/${enc('big/p10001')}/issues?pagination=keyset&order_by=updated_at&sort=asc&per_page=100`;
    let pages = 0;
    while (url) {
      const response = await fetch(url, { headers: { 'private-token': token } });
      const page = (await response.json()) as Array<{ iid: number; updated_at: string }>;
      expect(response.headers.get('x-total')).toBeNull();
      seen.push(...page.map((issue) => issue.iid));
      const link = response.headers.get('link');
      if (link) {
        expect(link).toMatch(/^<[^>]+cursor=[^>]+>; rel="next"$/);
        url = /<([^>]+)>/.exec(link)![1];
      } else url = undefined;
      pages += 1;
    }
    expect(pages).toBe(101);
    expect(seen).toHaveLength(10_001);
    expect(new Set(seen).size).toBe(10_001);
  }, 60_000);

  it('walks keyset pages with @gitbeaker/rest too', async () => {
    const issues = await gitlab().Issues.all({
      projectId: 'big/p250',
      pagination: 'keyset',
      orderBy: 'created_at',
      sort: 'desc',
      perPage: 100,
    });
    iidsOnce(issues as Array<{ iid: number }>, 250);
    expect((issues[0] as { iid: number }).iid).toBe(250);
  });

  it('refuses keyset pagination for an order it does not support', async () => {
    const response = await t.api(
      'GET',
      `/projects/${enc('big/p250')}/issues?pagination=keyset&order_by=popularity`,
      { token },
    );
    expect(response.status).toBe(405);
    expect(response.body).toEqual({
      error: 'Keyset pagination is not yet available for this type of request',
    });
  });
});
