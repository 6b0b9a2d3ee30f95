import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  parseIssueHook,
  snapshotFromRestIssue,
  type GitlabIssue,
  type IssueSnapshot,
} from '@testkase/gitlab';

import { issueWebUrl, normaliseInstanceUrl, toUpsertRow, type ProjectContext } from './requirement-mapping';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(path.join(__dirname, '../../test/fixtures/gitlab', name), 'utf8')) as T;

const context: ProjectContext = {
  connectionId: '6f1c1a3e-0d7e-4c3b-9a57-1d2b3c4d5e6f',
  projectId: 'tk-1',
  instanceUrl: 'https://gitlab.example.com',
  gitlabProjectId: 4,
  projectWebUrl: 'https://gitlab.example.com/my-group/my-project',
};

const snapshot = (overrides: Partial<IssueSnapshot> = {}): IssueSnapshot => ({
  iid: 12,
  issueId: 900,
  title: 'Checkout keeps the cart',
  description: 'As a **buyer** I keep my cart. See [the spec](/uploads/abc/spec.pdf).',
  state: 'opened',
  labels: ['backend', 'priority::high'],
  confidential: false,
  webUrl: 'https://gitlab.example.com/my-group/my-project/-/issues/12',
  createdAt: new Date('2024-01-02T03:04:05.678Z'),
  updatedAt: new Date('2024-02-03T04:05:06.789Z'),
  updatedAtExact: true,
  source: 'rest',
  ...overrides,
});

describe('toUpsertRow', () => {
  it('maps every field as ARCHITECTURE.md says', () => {
    expect(toUpsertRow(snapshot(), context)).toEqual({
      iid: 12,
      issue_id: 900,
      title: 'Checkout keeps the cart',
      description_markdown: 'As a **buyer** I keep my cart. See [the spec](/uploads/abc/spec.pdf).',
      description_html:
        '<p>As a <strong>buyer</strong> I keep my cart. See <a href="https://gitlab.example.com/my-group/my-project/uploads/abc/spec.pdf" rel="noopener noreferrer nofollow">the spec</a>.</p>\n',
      labels: ['backend', 'priority::high'],
      priority: 'P1',
      priority_labels: ['priority::high'],
      status: 'Active',
      confidential: false,
      web_url: 'https://gitlab.example.com/my-group/my-project/-/issues/12',
      gitlab_created_at: '2024-01-02T03:04:05.678Z',
      gitlab_updated_at: '2024-02-03T04:05:06.789Z',
      exact: true,
      source: 'rest',
      defect_id: null,
    });
  });

  it.each([
    [['priority::critical'], 'P0'],
    [['priority::high'], 'P1'],
    [['priority::medium'], 'P2'],
    [['priority::low'], 'P3'],
    [[], 'P2'],
    [['priority::low', 'priority::critical'], 'P0'],
  ] as const)('gives labels %p the priority %s', (labels, priority) => {
    expect(toUpsertRow(snapshot({ labels }), context).priority).toBe(priority);
  });

  it('marks a closed issue Deprecated and keeps the confidential flag', () => {
    const row = toUpsertRow(snapshot({ state: 'closed', confidential: true }), context);
    expect(row).toMatchObject({ status: 'Deprecated', confidential: true });
  });

  it('sorts and de-duplicates labels, so REST and webhook order never look like a change', () => {
    expect(toUpsertRow(snapshot({ labels: ['zeta', 'alpha', 'zeta', 'Beta'] }), context).labels).toEqual([
      'Beta',
      'alpha',
      'zeta',
    ]);
  });

  it('finds the defect marker of an issue defect-sync created', () => {
    const row = toUpsertRow(
      snapshot({ description: 'Broken login\n\n<!-- testkase:defect:DEF-42 -->' }),
      context,
    );
    expect(row.defect_id).toBe('DEF-42');
    expect(row.description_html).not.toContain('testkase:defect');
  });

  it('strips script and event handlers from the HTML but keeps the Markdown as it was', () => {
    const description = 'Hi <img src=x onerror="alert(1)"><script>alert(2)</script>';
    const row = toUpsertRow(snapshot({ description }), context);
    expect(row.description_markdown).toBe(description);
    expect(row.description_html).not.toMatch(/script|onerror|alert/);
  });
});

describe('issueWebUrl', () => {
  const base = 'https://gitlab.example.com/my-group/my-project';

  it('keeps the modern and the pre-12.0 route of this project', () => {
    expect(issueWebUrl(`${base}/-/issues/3`, base, 3)).toBe(`${base}/-/issues/3`);
    expect(issueWebUrl(`${base}/issues/3`, base, 3)).toBe(`${base}/issues/3`);
  });

  it('turns a work item URL into the issue URL', () => {
    expect(issueWebUrl(`${base}/-/work_items/3`, base, 3)).toBe(`${base}/-/issues/3`);
  });

  it.each([
    ['another project', 'https://gitlab.example.com/evil/project/-/issues/3'],
    ['another host', 'https://evil.example/my-group/my-project/-/issues/3'],
    ['another iid', `${base}/-/issues/4`],
    ['a script URL', 'javascript:alert(1)//my-group/my-project/-/issues/3'],
    ['nothing', null],
  ])('builds the URL from the project when the payload gives %s', (_case, url) => {
    expect(issueWebUrl(url, base, 3)).toBe(`${base}/-/issues/3`);
  });
});

describe('normaliseInstanceUrl', () => {
  it('spells one instance one way', () => {
    expect(normaliseInstanceUrl('https://GitLab.Example.com/gitlab/')).toBe(
      'https://gitlab.example.com/gitlab',
    );
  });
});

describe('REST and webhook snapshots of the same issue', () => {
  it('map to the same requirement (only the timestamp precision differs)', () => {
    const rest = snapshotFromRestIssue(fixture<GitlabIssue>('api-issue.json'))!;
    const hook = fixture<Record<string, Record<string, unknown>>>('webhook-issue-open.json');
    hook['object_attributes']!['iid'] = rest.iid;
    hook['object_attributes']!['title'] = rest.title;
    hook['object_attributes']!['description'] = rest.description;
    hook['object_attributes']!['state'] = rest.state;
    hook['object_attributes']!['labels'] = rest.labels.map((title) => ({ title }));
    hook['object_attributes']!['url'] = 'http://gitlab.example.com/my-group/my-project/issues/1';
    const parsed = parseIssueHook(hook);
    const restContext = { ...context, projectWebUrl: 'http://gitlab.example.com/my-group/my-project' };
    const fromHook =
      parsed.kind === 'issue' && parsed.snapshot ? toUpsertRow(parsed.snapshot, restContext) : null;
    const fromRest = toUpsertRow(rest, restContext);
    const comparable = ({
      gitlab_updated_at: _u,
      gitlab_created_at: _c,
      exact: _e,
      source: _s,
      issue_id: _i,
      ...row
    }: typeof fromRest) => row;
    expect(fromHook && comparable(fromHook)).toEqual(comparable(fromRest));
    expect(fromRest).toMatchObject({
      status: 'Deprecated',
      exact: true,
      web_url: 'http://gitlab.example.com/my-group/my-project/issues/1',
    });
  });
});

describe('snapshotFromRestIssue', () => {
  const issue = fixture<GitlabIssue[]>('api-issues-list.json')[0]!;

  it('reads the documented REST issue', () => {
    expect(snapshotFromRestIssue(issue)).toEqual({
      iid: 1,
      issueId: 41,
      title: 'Ut commodi ullam eos dolores perferendis nihil sunt.',
      description: 'Omnis vero earum sunt corporis dolor et placeat.',
      state: 'closed',
      labels: ['foo', 'bar'],
      confidential: false,
      webUrl: 'http://gitlab.example.com/my-group/my-project/issues/1',
      createdAt: new Date('2016-01-04T15:31:46.176Z'),
      updatedAt: new Date('2016-01-04T15:31:46.176Z'),
      updatedAtExact: true,
      source: 'rest',
    });
  });

  it('treats a null description as empty', () => {
    expect(snapshotFromRestIssue({ ...issue, description: null })?.description).toBe('');
  });

  it('skips other work item types and records it cannot use', () => {
    expect(snapshotFromRestIssue({ ...issue, issue_type: 'task' })).toBeNull();
    expect(snapshotFromRestIssue({ ...issue, iid: 0 })).toBeNull();
    expect(snapshotFromRestIssue({ ...issue, updated_at: 'soon' })).toBeNull();
  });
});
