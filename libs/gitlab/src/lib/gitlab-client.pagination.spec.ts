import { appErrorFrom, clientFor, closeClients, TOKEN } from '../../test/client-under-test';
import { FakeGitlab } from '../../test/fake-gitlab.server';
import type { GitlabIssue, GitlabPage } from './gitlab-rest.types';

const issue = (iid: number): Partial<GitlabIssue> => ({
  id: 1000 + iid,
  iid,
  title: `Issue ${iid}`,
  labels: [],
});

async function collect<T>(pages: AsyncIterable<GitlabPage<T>>): Promise<GitlabPage<T>[]> {
  const all: GitlabPage<T>[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

describe('GitLab client pagination', () => {
  let fake: FakeGitlab;

  beforeEach(async () => {
    fake = await FakeGitlab.start();
  });

  afterEach(async () => {
    await closeClients();
    await fake.close();
  });

  it('follows Link rel="next" across offset pages and stops when GitLab sends no next link', async () => {
    fake.on('GET', '/api/v4/projects/42/issues', (request, base) => {
      const page = Number(request.query.get('page') ?? '1');
      const next = new URL(`${base}/api/v4/projects/42/issues`);
      next.searchParams.set('page', String(page + 1));
      next.searchParams.set('per_page', '2');
      next.searchParams.set('state', 'opened');
      // Above 10,000 records GitLab sends neither x-total nor x-total-pages: only the link matters.
      const headers: Record<string, string> =
        page < 3
          ? { link: `<${next.href}>; rel="next", <${base}/api/v4/projects/42/issues?page=1>; rel="first"` }
          : {};
      return { json: [issue(page * 2 - 1), issue(page * 2)], headers };
    });
    const client = clientFor(fake);

    const pages = await collect(client.issues.pages(42, { state: 'opened', per_page: 2 }));

    expect(pages.map((p) => p.items.map((i) => i.iid))).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(pages[0]!.next).toBe('projects/42/issues?page=2&per_page=2&state=opened');
    expect(pages[2]!.next).toBeNull();
    expect(fake.requests.map((r) => r.query.get('page'))).toEqual([null, '2', '3']);
    expect(fake.requests.every((r) => r.headers['private-token'] === TOKEN)).toBe(true);
  });

  it('uses keyset pagination with order_by/sort and carries the cursor and filters to the next page', async () => {
    fake.on('GET', '/api/v4/projects/42/issues', (request, base) => {
      const cursor = request.query.get('cursor');
      if (cursor === null) {
        const next = `${base}/api/v4/projects/42/issues?cursor=eyJpZCI6IjIifQ&iids%5B%5D=1&iids%5B%5D=2&iids%5B%5D=3&order_by=updated_at&pagination=keyset&per_page=2&sort=asc&updated_after=2026-01-01T00%3A00%3A00Z`;
        return { json: [issue(1), issue(2)], headers: { link: `<${next}>; rel="next"` } };
      }
      return { json: [issue(3)] };
    });
    const client = clientFor(fake);

    const pages = await collect(
      client.issues.pages(42, {
        keyset: true,
        per_page: 2,
        iids: [1, 2, 3],
        updated_after: '2026-01-01T00:00:00Z',
      }),
    );

    expect(pages.flatMap((p) => p.items.map((i) => i.iid))).toEqual([1, 2, 3]);
    const [first, second] = fake.requests;
    expect(Object.fromEntries(first!.query)).toMatchObject({
      pagination: 'keyset',
      order_by: 'updated_at',
      sort: 'asc',
      per_page: '2',
      updated_after: '2026-01-01T00:00:00Z',
    });
    expect(first!.query.getAll('iids[]')).toEqual(['1', '2', '3']);
    expect(second!.query.get('cursor')).toBe('eyJpZCI6IjIifQ');
    expect(second!.query.getAll('iids[]')).toEqual(['1', '2', '3']);
    expect(second!.query.get('pagination')).toBe('keyset');
  });

  it('resumes from a checkpointed next value without refetching earlier pages', async () => {
    fake.on('GET', '/api/v4/projects/42/issues', (request, base) =>
      request.query.get('page') === '2'
        ? { json: [issue(3)] }
        : {
            json: [issue(1)],
            headers: { link: `<${base}/api/v4/projects/42/issues?page=2&per_page=1>; rel="next"` },
          },
    );
    const client = clientFor(fake);
    const [firstPage] = await collect(client.issues.pages(42, { per_page: 1 }));
    const checkpoint = firstPage!.next!;
    fake.requests.length = 0;

    const resumed = await collect(client.issues.pages(42, { per_page: 1 }, { resumeFrom: checkpoint }));

    expect(resumed.map((p) => p.items.map((i) => i.iid))).toEqual([[3]]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.query.get('page')).toBe('2');
  });

  it('refuses a checkpoint taken from another listing', async () => {
    const client = clientFor(fake);
    const error = await appErrorFrom(
      collect(client.issues.pages(42, {}, { resumeFrom: 'projects/42/labels?page=2' })),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(fake.requests).toHaveLength(0);
  });

  it('fetches the next page from the configured instance even when the link names another host', async () => {
    fake.on('GET', '/api/v4/projects/42/labels', (request) =>
      request.query.get('page') === '2'
        ? { json: [{ id: 2, name: 'b' }] }
        : {
            json: [{ id: 1, name: 'a' }],
            headers: { link: '<https://elsewhere.example/api/v4/projects/42/labels?page=2>; rel="next"' },
          },
    );
    const client = clientFor(fake);

    const pages = await collect(client.labels.pages(42));

    expect(pages.flatMap((p) => p.items.map((l) => l.name))).toEqual(['a', 'b']);
    expect(fake.requests).toHaveLength(2);
  });

  it('URL-encodes a project path and lists notes and hooks page by page', async () => {
    fake
      .on('GET', '/api/v4/projects/grp%2Fsub%2Fproj', {
        json: { id: 7, path_with_namespace: 'grp/sub/proj' },
      })
      .on('GET', '/api/v4/projects/7/issues/3/notes', { json: [{ id: 1, body: 'hi', system: false }] })
      .on('GET', '/api/v4/projects/7/hooks', (request, base) =>
        request.query.get('page') === '2'
          ? { json: [{ id: 2 }] }
          : { json: [{ id: 1 }], headers: { link: `<${base}/api/v4/projects/7/hooks?page=2>; rel="next"` } },
      );
    const client = clientFor(fake);

    const project = await client.projects.get('grp/sub/proj');
    const notes = await collect(client.notes.pages(project.id, 3, { sort: 'asc' }));
    const hooks = await client.hooks.list(project.id);

    expect(project.id).toBe(7);
    expect(fake.requests[0]!.url).toBe('/api/v4/projects/grp%2Fsub%2Fproj');
    expect(notes[0]!.items[0]!.body).toBe('hi');
    expect(fake.requests[1]!.query.get('sort')).toBe('asc');
    expect(hooks.map((h) => h.id)).toEqual([1, 2]);
  });
});
