import { parseIssueWebUrl, projectWebUrlFromIssueUrl } from './issue-url';

describe('projectWebUrlFromIssueUrl', () => {
  it.each([
    // Issue URLs as GitLab sent them in the webhook payloads kept under libs/gitlab/test/fixtures/gitlab/real.
    [
      'https://gitlab.com/sbansal1999/testing-zulip-gitlab-integration/-/issues/1',
      'https://gitlab.com/sbansal1999/testing-zulip-gitlab-integration',
    ],
    [
      'https://gitlab.com/eeshangarg/my-awesome-project/issues/7',
      'https://gitlab.com/eeshangarg/my-awesome-project',
    ],
    [
      'https://gitlab.com/sathwikshetty33-group/mVc/-/work_items/7',
      'https://gitlab.com/sathwikshetty33-group/mVc',
    ],
    ['https://gitlab.com/group/project/-/issues/17#note_1241', 'https://gitlab.com/group/project'],
    ['https://gitlab.com/group/sub/project/-/issues/3/', 'https://gitlab.com/group/sub/project'],
    [
      'https://git.example.com:8443/gitlab/group/project/-/issues/3',
      'https://git.example.com:8443/gitlab/group/project',
    ],
    ['http://localhost:3080/group/project/-/issues/1?tab=notes', 'http://localhost:3080/group/project'],
    ['https://gitlab.com/group/issues/-/issues/4', 'https://gitlab.com/group/issues'],
    ['https://user:secret@gitlab.com/group/project/-/issues/1', 'https://gitlab.com/group/project'],
    ['  https://gitlab.com/group/project/-/issues/1  ', 'https://gitlab.com/group/project'],
  ])('%s → %s', (url, projectWebUrl) => {
    expect(projectWebUrlFromIssueUrl(url)).toBe(projectWebUrl);
  });

  it.each([
    '',
    'not a url',
    'https://gitlab.com/group/project',
    'https://gitlab.com/group/project/-/merge_requests/1',
    'https://gitlab.com/group/project/-/issues',
    'https://gitlab.com/group/project/-/issues/abc',
    'https://gitlab.com/group/project/-/issues/0',
    'https://gitlab.com/-/issues/1',
    'https://gitlab.com/group/project/-/issues/1/edit',
    'ftp://gitlab.com/group/project/-/issues/1',
    'javascript:alert(1)//group/project/-/issues/1',
  ])('gives null for %j', (url) => {
    expect(projectWebUrlFromIssueUrl(url)).toBeNull();
  });
});

describe('parseIssueWebUrl', () => {
  it.each([
    [
      'https://gitlab.com/group/project/-/issues/42',
      { projectWebUrl: 'https://gitlab.com/group/project', iid: 42 },
    ],
    [
      'https://gitlab.com/group/project/issues/7',
      { projectWebUrl: 'https://gitlab.com/group/project', iid: 7 },
    ],
    [
      'https://gitlab.com/group/project/-/work_items/9',
      { projectWebUrl: 'https://gitlab.com/group/project', iid: 9 },
    ],
  ])('splits %s', (url, parts) => {
    expect(parseIssueWebUrl(url)).toEqual(parts);
  });
});
