import { inspect } from 'node:util';

import type { AppError, ErrorCode } from '@testkase/util';

import {
  appErrorFrom,
  clientFor,
  closeClients,
  recordingLogger,
  TOKEN,
  type LogLine,
} from '../../test/client-under-test';
import { FakeGitlab, type FakeReply } from '../../test/fake-gitlab.server';
import type { GitlabClient } from './gitlab-client';

interface ErrorCase {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly reply: FakeReply;
  readonly call: (client: GitlabClient) => Promise<unknown>;
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

const CASES: readonly ErrorCase[] = [
  {
    name: 'unknown token',
    method: 'GET',
    path: '/api/v4/user',
    reply: { status: 401, json: { message: '401 Unauthorized' } },
    call: (c) => c.users.current(),
    code: 'AUTH_FAILED',
    message: '401 Unauthorized',
  },
  {
    name: 'expired token (OAuth shape)',
    method: 'GET',
    path: '/api/v4/user',
    reply: {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="", error="invalid_token"' },
      json: {
        error: 'invalid_token',
        error_description: 'Token is expired. You can either do re-authorization or token refresh.',
      },
    },
    call: (c) => c.users.current(),
    code: 'TOKEN_EXPIRED',
    message: 'Token is expired',
  },
  {
    name: 'revoked token',
    method: 'GET',
    path: '/api/v4/personal_access_tokens/self',
    reply: {
      status: 401,
      json: {
        error: 'invalid_token',
        error_description: 'Token was revoked. You have to re-authorize from the user.',
      },
    },
    call: (c) => c.tokens.self(),
    code: 'AUTH_FAILED',
    message: 'Token was revoked',
    details: { reason: 'revoked' },
  },
  {
    name: 'missing scope',
    method: 'GET',
    path: '/api/v4/projects/42',
    reply: {
      status: 403,
      json: {
        error: 'insufficient_scope',
        error_description: 'The request requires higher privileges than provided by the access token.',
        scope: 'api read_api',
      },
    },
    call: (c) => c.projects.get(42),
    code: 'INSUFFICIENT_SCOPE',
    message: 'requires higher privileges',
  },
  {
    name: 'forbidden by role',
    method: 'POST',
    path: '/api/v4/projects/42/hooks',
    reply: { status: 403, json: { message: '403 Forbidden' } },
    call: (c) => c.hooks.create(42, { url: 'https://hooks.example/gitlab' }),
    code: 'INSUFFICIENT_ROLE',
    message: '403 Forbidden',
  },
  {
    name: 'project lookup 404',
    method: 'GET',
    path: '/api/v4/projects/grp%2Fmissing',
    reply: { status: 404, json: { message: '404 Project Not Found' } },
    call: (c) => c.projects.get('grp/missing'),
    code: 'PROJECT_NOT_FOUND',
    message: '404 Project Not Found',
  },
  {
    name: 'issue 404',
    method: 'GET',
    path: '/api/v4/projects/42/issues/99',
    reply: { status: 404, json: { message: '404 Issue Not Found' } },
    call: (c) => c.issues.get(42, 99),
    code: 'GITLAB_NOT_FOUND',
    message: '404 Issue Not Found',
  },
  {
    name: 'model validation (field → messages)',
    method: 'POST',
    path: '/api/v4/projects/42/issues',
    reply: { status: 400, json: { message: { title: ["can't be blank"], labels: ['is invalid'] } } },
    call: (c) => c.issues.create(42, { title: '' }),
    code: 'GITLAB_REJECTED',
    message: "title can't be blank; labels is invalid",
    details: { fieldErrors: { title: ["can't be blank"], labels: ['is invalid'] } },
  },
  {
    name: 'Grape missing parameter',
    method: 'POST',
    path: '/api/v4/projects/42/labels',
    reply: { status: 400, json: { error: 'color is missing' } },
    call: (c) => c.labels.create(42, { name: 'bug', color: '' }),
    code: 'GITLAB_REJECTED',
    message: 'color is missing',
  },
  {
    name: 'label already exists',
    method: 'POST',
    path: '/api/v4/projects/42/labels',
    reply: { status: 409, json: { message: 'Label already exists' } },
    call: (c) => c.labels.create(42, { name: 'bug', color: '#d9534f' }),
    code: 'GITLAB_REJECTED',
    message: 'Label already exists',
    details: { status: 409 },
  },
  {
    name: 'hook rejected',
    method: 'PUT',
    path: '/api/v4/projects/42/hooks/7',
    reply: { status: 422, json: { error: 'Invalid url given' } },
    call: (c) => c.hooks.update(42, 7, { url: 'nope', token: 'hook-secret' }),
    code: 'GITLAB_REJECTED',
    message: 'Invalid url given',
    details: { status: 422 },
  },
  {
    name: 'application rate limit (nested message)',
    method: 'POST',
    path: '/api/v4/projects/42/issues/5/notes',
    reply: {
      status: 429,
      headers: { 'retry-after': '0' },
      json: { message: { error: 'This endpoint has been requested too many times. Try again later.' } },
    },
    call: (c) => c.notes.create(42, 5, { body: 'hello' }),
    code: 'RATE_LIMITED',
    message: 'requested too many times',
  },
];

describe('GitLab client error mapping', () => {
  let fake: FakeGitlab;

  beforeEach(async () => {
    fake = await FakeGitlab.start();
  });

  afterEach(async () => {
    await closeClients();
    await fake.close();
  });

  it.each(CASES)('maps $name to $code with GitLab own message', async (c) => {
    fake.on(c.method, c.path, c.reply);

    const error = await appErrorFrom(c.call(clientFor(fake)));

    expect(error.code).toBe(c.code);
    expect(error.message).toContain(c.message);
    expect(error.details).toMatchObject({
      status: c.reply.status,
      gitlabMessage: expect.stringContaining(c.message),
    });
    if (c.details) expect(error.details).toMatchObject(c.details);
  });

  it('turns an HTML page on a 2xx (not a GitLab API) into INSTANCE_UNREACHABLE', async () => {
    fake.on('GET', '/api/v4/user', {
      headers: { 'content-type': 'text/html' },
      text: '<html>Sign in</html>',
    });

    const error = await appErrorFrom(clientFor(fake).users.current());

    expect(error.code).toBe('INSTANCE_UNREACHABLE');
    expect(error.message).toContain('Not a GitLab API response');
  });

  it('rejects label names with commas before sending anything', async () => {
    const error = await appErrorFrom(clientFor(fake).issues.update(42, 5, { add_labels: ['a,b'] }));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(fake.requests).toHaveLength(0);
  });

  describe('notes', () => {
    it('returns commands_only when a quick-action-only note answers 202', async () => {
      fake.on('POST', '/api/v4/projects/42/issues/5/notes', {
        status: 202,
        json: { commands_changes: { state_event: 'close' }, summary: ['Closed this issue.'] },
      });

      const result = await clientFor(fake).notes.create(42, 5, { body: '/close' });

      expect(result).toEqual({
        kind: 'commands_only',
        commandsChanges: { state_event: 'close' },
        summary: ['Closed this issue.'],
      });
    });

    it('returns the created note on 201 and sends internal notes as such', async () => {
      fake.on('POST', '/api/v4/projects/42/issues/5/notes', {
        status: 201,
        json: { id: 9, body: 'hi', system: false },
      });

      const result = await clientFor(fake).notes.create(42, 5, { body: 'hi', internal: true });

      expect(result).toMatchObject({ kind: 'created', note: { id: 9 } });
      expect(JSON.parse(fake.requests[0]!.body)).toEqual({ body: 'hi', internal: true });
    });
  });

  describe('writes', () => {
    it('sends issue updates with state_event and comma-joined label changes', async () => {
      fake.on('PUT', '/api/v4/projects/42/issues/5', {
        json: { id: 501, iid: 5, state: 'closed', labels: ['b'] },
      });

      const issue = await clientFor(fake).issues.update(42, 5, {
        state_event: 'close',
        add_labels: ['b', 'priority::high'],
        remove_labels: ['a'],
      });

      expect(issue.state).toBe('closed');
      expect(JSON.parse(fake.requests[0]!.body)).toEqual({
        state_event: 'close',
        add_labels: 'b,priority::high',
        remove_labels: 'a',
      });
    });

    it('creates hooks with push_events off unless asked, and deletes with 204', async () => {
      fake
        .on('POST', '/api/v4/projects/42/hooks', {
          status: 201,
          json: { id: 3, url: 'https://hooks.example/x' },
        })
        .on('DELETE', '/api/v4/projects/42/hooks/3', { status: 204 });
      const client = clientFor(fake);

      await client.hooks.create(42, {
        url: 'https://hooks.example/x',
        issues_events: true,
        token: 'hook-secret',
      });
      await client.hooks.delete(42, 3);

      expect(JSON.parse(fake.requests[0]!.body)).toEqual({
        url: 'https://hooks.example/x',
        issues_events: true,
        token: 'hook-secret',
        push_events: false,
      });
      expect(fake.requests[1]!.method).toBe('DELETE');
    });

    it('sends a hook test for a trigger, and reports the 422 GitLab gives when it has nothing to send', async () => {
      fake
        .on('POST', '/api/v4/projects/42/hooks/3/test/issues_events', {
          status: 201,
          json: { message: '201 Created' },
        })
        .on('POST', '/api/v4/projects/42/hooks/3/test/note_events', {
          status: 422,
          json: { message: 'Ensure the project has notes.' },
        });
      const client = clientFor(fake);

      await client.hooks.test(42, 3, 'issues_events');
      await expect(client.hooks.test(42, 3, 'note_events')).rejects.toMatchObject({
        code: 'GITLAB_REJECTED',
        details: { status: 422, gitlabMessage: 'Ensure the project has notes.' },
      });
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /api/v4/projects/42/hooks/3/test/issues_events',
        'POST /api/v4/projects/42/hooks/3/test/note_events',
      ]);
    });
  });

  describe('the token', () => {
    const serialised = (error: AppError): string =>
      [
        inspect(error, { depth: 10, showHidden: true }),
        JSON.stringify(error, Object.getOwnPropertyNames(error)),
        JSON.stringify(error.details),
        inspect(error.cause, { depth: 10, showHidden: true }),
      ].join('\n');

    it('never appears in any thrown error or log line, even when GitLab echoes it', async () => {
      for (const c of CASES) fake.on(c.method, c.path, c.reply);
      fake
        .on('GET', '/api/v4/projects/1', (request) => ({
          status: 400,
          json: { message: `400 Bad request - token ${String(request.headers['private-token'])} is odd` },
        }))
        .on('GET', '/api/v4/projects/2', { status: 503, text: 'down' })
        .on('POST', '/api/v4/projects/3/issues', {
          status: 500,
          json: { message: '500 Internal Server Error' },
        })
        .on('GET', '/api/v4/projects/4', { hang: true })
        .on('GET', '/api/v4/projects/5', {
          status: 302,
          headers: { location: 'http://169.254.169.254/latest/' },
        });
      const logs: LogLine[] = [];
      const client = clientFor(fake, { logger: recordingLogger(logs), timeoutMs: 150 });

      const errors = [
        ...(await Promise.all(CASES.map((c) => appErrorFrom(c.call(client))))),
        await appErrorFrom(client.projects.get(1)),
        await appErrorFrom(client.projects.get(2)),
        await appErrorFrom(client.issues.create(3, { title: 'x' })),
        await appErrorFrom(client.projects.get(4)),
        await appErrorFrom(client.projects.get(5)),
        await appErrorFrom(clientFor(fake, { instanceUrl: 'http://127.0.0.1:1' }).users.current()),
      ];

      expect(errors.map((e) => e.code)).toEqual(
        expect.arrayContaining(['GITLAB_REJECTED', 'INSTANCE_UNREACHABLE']),
      );
      expect(errors[CASES.length]!.message).toContain('[REDACTED]');
      for (const error of errors) expect(serialised(error)).not.toContain(TOKEN);
      expect(logs.length).toBeGreaterThan(0);
      expect(JSON.stringify(logs)).not.toContain(TOKEN);
    });
  });
});
