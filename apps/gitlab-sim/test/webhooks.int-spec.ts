import { randomBytes } from 'node:crypto';

import { Webhook, WebhookVerificationError } from 'standardwebhooks';

import { createTeamProject, enc, startTestSim, type TeamProject, type TestSim } from './helpers/test-sim';
import { WebhookReceiver } from './helpers/webhook-receiver';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UTC_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/;
const MINUTE = 60_000;

interface Hook {
  id: number;
  push_events: boolean;
  issues_events: boolean;
  token_present: boolean;
  alert_status: string;
  disabled_until: string | null;
}

describe('webhooks as GitLab sends them', () => {
  let t: TestSim;
  let team: TeamProject;
  let receiver: WebhookReceiver;
  let p: string;
  const maintainer = () => `maintainer-${team.path.replace(/\//g, '-')}`;
  const developer = () => `developer-${team.path.replace(/\//g, '-')}`;

  beforeAll(async () => {
    t = await startTestSim({ GITLAB_SIM_VERSION: '18.6.0' });
    receiver = await WebhookReceiver.start();
    team = await createTeamProject(t.client, 'hooks/app');
    p = enc(team.path);
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  beforeEach(async () => {
    receiver.clear();
    receiver.status = 200;
    receiver.delayMs = 0;
  });

  afterEach(async () => {
    const hooks = await t.api<Hook[]>('GET', `/projects/${p}/hooks`, { token: team.tokens.maintainer });
    for (const hook of hooks.body)
      await t.api('DELETE', `/projects/${p}/hooks/${hook.id}`, { token: team.tokens.maintainer });
    await t.client.flushDeliveries();
    await t.client.resetClock();
  });

  const addHook = async (body: Record<string, unknown> = {}): Promise<Hook> => {
    const response = await t.api<Hook>('POST', `/projects/${p}/hooks`, {
      token: team.tokens.maintainer,
      body: { url: receiver.url, push_events: false, issues_events: true, note_events: true, ...body },
    });
    expect(response.status).toBe(201);
    return response.body;
  };
  /**
   * Payloads in the order the events happened (the simulator's delivery log), since deliveries
   * run concurrently and may arrive in another order, as with GitLab.
   */
  const sent = async (hookId: number): Promise<Array<Record<string, unknown>>> => {
    await t.client.flushDeliveries();
    return (await t.client.deliveries({ hook: hookId })).map((delivery) => delivery.payload);
  };
  const newIssue = (title = 'Webhook issue', extra: Record<string, unknown> = {}) =>
    t.client.createIssue(team.path, { as: maintainer(), title, ...extra });

  describe('headers and signatures', () => {
    it('sends every GitLab header, the token only when set, and new UUIDs per delivery', async () => {
      await addHook({ token: 'hook-secret' });
      await newIssue('one');
      await newIssue('two');
      const [first, second] = await receiver.waitFor(2);
      for (const delivery of [first!, second!]) {
        expect(delivery.headers).toMatchObject({
          'content-type': 'application/json',
          'user-agent': 'GitLab/18.6.0',
          'x-gitlab-event': 'Issue Hook',
          'x-gitlab-token': 'hook-secret',
          'x-gitlab-instance': t.url,
        });
        for (const name of ['idempotency-key', 'x-gitlab-webhook-uuid', 'x-gitlab-event-uuid'])
          expect(delivery.headers[name]).toMatch(UUID);
        expect(delivery.headers).not.toHaveProperty('webhook-signature');
      }
      expect(first!.headers['x-gitlab-webhook-uuid']).not.toBe(second!.headers['x-gitlab-webhook-uuid']);
      expect(first!.headers['idempotency-key']).not.toBe(second!.headers['idempotency-key']);

      await t.api(
        'DELETE',
        `/projects/${p}/hooks/${(await t.api<Hook[]>('GET', `/projects/${p}/hooks`, { token: team.tokens.maintainer })).body[0]!.id}`,
        {
          token: team.tokens.maintainer,
        },
      );
      receiver.clear();
      await addHook();
      await newIssue('three');
      const [untokened] = await receiver.waitFor(1);
      expect(untokened!.headers).not.toHaveProperty('x-gitlab-token');
    });

    it('signs with Standard Webhooks HMAC-SHA256 when a signing token is set (verified independently)', async () => {
      const signingToken = `whsec_${randomBytes(32).toString('base64')}`;
      await addHook({ signing_token: signingToken });
      await newIssue('signed');
      const [delivery] = await receiver.waitFor(1);
      const { headers, rawBody } = delivery!;
      expect(headers['webhook-id']).toBe(headers['idempotency-key']);
      expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      const verifier = new Webhook(signingToken);
      expect(verifier.verify(rawBody, headers)).toMatchObject({ object_kind: 'issue' });
      expect(() => verifier.verify(rawBody.replace('signed', 'forged'), headers)).toThrow(
        WebhookVerificationError,
      );
      expect(() =>
        new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(rawBody, headers),
      ).toThrow(WebhookVerificationError);
    });

    it('ignores signing tokens like a GitLab without the webhook_signing_token flag', async () => {
      await t.client.updateSettings({ webhookSigningTokens: false });
      try {
        const hook = await addHook({ token: 'hook-secret', signing_token: 'whsec_not-even-valid' });
        expect(hook).not.toHaveProperty('signing_token_present');
        expect(hook).not.toHaveProperty('token_present');
        await newIssue('unsigned');
        const [delivery] = await receiver.waitFor(1);
        expect(delivery!.headers['x-gitlab-token']).toBe('hook-secret');
        expect(delivery!.headers).not.toHaveProperty('webhook-signature');
      } finally {
        await t.client.updateSettings({ webhookSigningTokens: true });
      }
    });

    it('rejects a malformed signing token with 422', async () => {
      const response = await t.api('POST', `/projects/${p}/hooks`, {
        token: team.tokens.maintainer,
        body: { url: receiver.url, signing_token: 'whsec_short' },
      });
      expect(response.status).toBe(422);
      expect(response.body).toEqual({ error: expect.stringContaining('whsec_') });
    });

    it('carries X-Gitlab-Event-UUID from the triggering request (recursion detection)', async () => {
      await addHook();
      await t.api('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { title: 'Echo' },
        headers: { 'x-gitlab-event-uuid': '11111111-2222-3333-4444-555555555555' },
      });
      const [delivery] = await receiver.waitFor(1);
      expect(delivery!.headers['x-gitlab-event-uuid']).toBe('11111111-2222-3333-4444-555555555555');
    });

    it('renders a custom webhook template as the body', async () => {
      await addHook({
        custom_webhook_template: '{"event":"{{object_kind}}","title":"{{object_attributes.title}}"}',
      });
      await newIssue('Templated "quotes"');
      const [delivery] = await receiver.waitFor(1);
      expect(JSON.parse(delivery!.rawBody)).toEqual({ event: 'issue', title: 'Templated "quotes"' });
    });
  });

  describe('events', () => {
    it('sends open, update, close and reopen with `changes`, the actor as `user`', async () => {
      const hook = await addHook();
      const issue = await newIssue('Lifecycle');
      await t.client.updateIssue(team.path, issue.iid, { as: developer(), title: 'Lifecycle, renamed' });
      await t.client.closeIssue(team.path, issue.iid, developer());
      await t.client.reopenIssue(team.path, issue.iid, maintainer());
      const events = await sent(hook.id);
      const actions = events.map((event) => (event['object_attributes'] as { action: string }).action);
      expect(actions).toEqual(['open', 'update', 'close', 'reopen']);
      const users = events.map((event) => (event['user'] as { id: number }).id);
      expect(users).toEqual([
        team.userIds.maintainer,
        team.userIds.developer,
        team.userIds.developer,
        team.userIds.maintainer,
      ]);
      const update = events[1]!['changes'] as Record<string, { previous: unknown; current: unknown }>;
      expect(update['title']).toEqual({ previous: 'Lifecycle', current: 'Lifecycle, renamed' });
      expect(update['updated_at']!.current).toMatch(UTC_TEXT);
      expect(update['updated_by_id']).toEqual({ previous: null, current: team.userIds.developer });
      const close = events[2]!['changes'] as Record<string, { previous: unknown; current: unknown }>;
      expect(Object.keys(close).sort()).toEqual(['closed_at', 'state_id', 'updated_at']);
      expect(close['state_id']).toEqual({ previous: 1, current: 2 });
      expect(events[2]!['object_attributes']).toMatchObject({ state: 'closed', state_id: 2 });
    });

    it('carries full label objects in changes.labels', async () => {
      const hook = await addHook();
      const issue = await newIssue('Relabel', { labels: ['priority::low'] });
      await t.client.updateIssue(team.path, issue.iid, {
        as: developer(),
        addLabels: ['priority::high'],
        removeLabels: ['priority::low'],
      });
      const [, update] = await sent(hook.id);
      const labels = (
        update!['changes'] as {
          labels: { previous: Array<{ title: string }>; current: Array<{ title: string; type: string }> };
        }
      ).labels;
      expect(labels.previous.map((label) => label.title)).toEqual(['priority::low']);
      expect(labels.current).toEqual([
        expect.objectContaining({ title: 'priority::high', type: 'ProjectLabel', color: expect.any(String) }),
      ]);
    });

    it('routes confidential issues and their notes only to hooks with the confidential flags', async () => {
      const plain = await addHook({ url: `${receiver.url}?plain`, issues_events: true, note_events: true });
      const confidential = await addHook({
        url: `${receiver.url}?confidential`,
        issues_events: false,
        note_events: false,
        confidential_issues_events: true,
        confidential_note_events: true,
      });
      const secret = await newIssue('Secret', { confidential: true });
      await t.client.addNote(team.path, secret.iid, { as: developer(), body: 'psst' });
      const open = await newIssue('Open');
      await t.client.addNote(team.path, open.iid, {
        as: developer(),
        body: 'internal remark',
        internal: true,
      });
      await t.client.addNote(team.path, open.iid, { as: developer(), body: 'public remark' });
      await t.client.flushDeliveries();
      const byHook = async (id: number) =>
        (await t.client.deliveries({ hook: id })).map((delivery) => [
          delivery.event,
          delivery.payload['event_type'],
        ]);
      expect(receiver.received).toHaveLength(5);
      expect(await byHook(confidential.id)).toEqual([
        ['Confidential Issue Hook', 'confidential_issue'],
        ['Confidential Note Hook', 'confidential_note'],
        ['Confidential Note Hook', 'confidential_note'],
      ]);
      expect(await byHook(plain.id)).toEqual([
        ['Issue Hook', 'issue'],
        ['Note Hook', 'note'],
      ]);
    });

    it('sends note create and update, but nothing for system notes or deleted notes', async () => {
      const hook = await addHook({ issues_events: false });
      const issue = await newIssue('Quiet');
      await t.client.closeIssue(team.path, issue.iid, maintainer());
      const added = await t.client.addNote(team.path, issue.iid, { as: developer(), body: 'v1' });
      if (added.kind !== 'note') throw new Error('expected a note');
      await t.client.editNote(team.path, issue.iid, added.note.id, { as: developer(), body: 'v2' });
      await t.client.deleteNote(team.path, issue.iid, added.note.id);
      const notes = (await sent(hook.id)).map(
        (payload) => payload['object_attributes'] as { action: string; note: string; system: boolean },
      );
      expect(receiver.received).toHaveLength(2);
      expect(notes.map((note) => [note.action, note.note, note.system])).toEqual([
        ['create', 'v1', false],
        ['update', 'v2', false],
      ]);
    });

    it('sends other work item types as object_kind work_item through the Issue Hook', async () => {
      const hook = await addHook({ confidential_issues_events: true });
      await t.client.createWorkItem(team.path, { as: developer(), type: 'Incident', title: 'Outage' });
      const objective = await t.client.createWorkItem(team.path, {
        as: developer(),
        type: 'Objective',
        title: 'Q3 goal',
        confidential: true,
      });
      await t.client.closeIssue(team.path, objective.iid, developer());
      await t.client.flushDeliveries();
      const events = await t.client.deliveries({ hook: hook.id });
      expect(
        events.map((event) => [
          event.event,
          event.payload['event_type'],
          (event.payload['object_attributes'] as { type: string }).type,
          (event.payload['object_attributes'] as { action: string }).action,
        ]),
      ).toEqual([
        ['Issue Hook', 'work_item', 'Incident', 'open'],
        ['Confidential Issue Hook', 'confidential_work_item', 'Objective', 'open'],
        ['Confidential Issue Hook', 'confidential_work_item', 'Objective', 'close'],
      ]);
    });
  });

  describe('hook management rules', () => {
    it('defaults push_events to true when not sent', async () => {
      const response = await t.api<Hook>('POST', `/projects/${p}/hooks`, {
        token: team.tokens.maintainer,
        body: { url: receiver.url, issues_events: true },
      });
      expect(response.body).toMatchObject({ push_events: true, issues_events: true });
      const explicit = await addHook({ push_events: false });
      expect(explicit.push_events).toBe(false);
    });

    it('drops the secret token when the URL changes, keeps it otherwise, and never returns it', async () => {
      const hook = await addHook({ token: 'keep-me' });
      expect(hook.token_present).toBe(true);
      const path = `/projects/${p}/hooks/${hook.id}`;
      const renamed = await t.api<Hook>('PUT', path, {
        token: team.tokens.maintainer,
        body: { name: 'renamed', url: receiver.url },
      });
      expect(renamed.body.token_present).toBe(true);
      const moved = await t.api<Hook>('PUT', path, {
        token: team.tokens.maintainer,
        body: { url: `${receiver.url}?moved` },
      });
      expect(moved.body.token_present).toBe(false);
      expect(moved.text).not.toContain('keep-me');
      await newIssue('After move');
      const [delivery] = await receiver.waitFor(1);
      expect(delivery!.headers).not.toHaveProperty('x-gitlab-token');
      const again = await t.api<Hook>('PUT', path, {
        token: team.tokens.maintainer,
        body: { url: receiver.url, token: 'new-secret' },
      });
      expect(again.body.token_present).toBe(true);
    });

    it('answers 422 {"error":"Invalid url given"} for a bad URL', async () => {
      const response = await t.api('POST', `/projects/${p}/hooks`, {
        token: team.tokens.maintainer,
        body: { url: 'not a url' },
      });
      expect(response.status).toBe(422);
      expect(response.body).toEqual({ error: 'Invalid url given' });
    });
  });

  describe('delivery semantics', () => {
    const hookState = (id: number) =>
      t
        .api<Hook>('GET', `/projects/${p}/hooks/${id}`, { token: team.tokens.maintainer })
        .then((response) => response.body);
    const fire = async (title: string) => {
      await newIssue(title);
      await t.client.flushDeliveries();
    };

    it('does not retry: one request per event, even on 500', async () => {
      receiver.status = 500;
      const hook = await addHook();
      await fire('Fails once');
      expect(receiver.received).toHaveLength(1);
      const deliveries = await t.client.deliveries({ hook: hook.id });
      expect(deliveries.map((delivery) => [delivery.outcome, delivery.responseStatus])).toEqual([
        ['failure', 500],
      ]);
    });

    it('counts 3xx as success', async () => {
      receiver.status = 302;
      const hook = await addHook();
      for (let n = 0; n < 5; n += 1) await fire(`Redirected ${n}`);
      expect((await hookState(hook.id)).alert_status).toBe('executable');
      expect(
        (await t.client.deliveries({ hook: hook.id })).every((delivery) => delivery.outcome === 'success'),
      ).toBe(true);
    });

    it('disables a hook for 1 minute after 4 consecutive failures, doubling after each further failure', async () => {
      receiver.status = 500;
      const hook = await addHook();
      for (let n = 1; n <= 3; n += 1) await fire(`Failure ${n}`);
      expect((await hookState(hook.id)).alert_status).toBe('executable');
      await fire('Failure 4');
      const disabled = await hookState(hook.id);
      expect(disabled.alert_status).toBe('temporarily_disabled');
      const now = (await t.client.clock()).now;
      expect(Date.parse(disabled.disabled_until!) - now).toBeGreaterThan(55_000);
      expect(Date.parse(disabled.disabled_until!) - now).toBeLessThanOrEqual(MINUTE);

      await fire('While disabled');
      expect(receiver.received).toHaveLength(4);
      expect((await t.client.deliveries({ hook: hook.id, outcome: 'skipped_disabled' })).length).toBe(1);

      await t.client.advanceClock(MINUTE + 1_000);
      await fire('Failure 5');
      expect(receiver.received).toHaveLength(5);
      const backoff = await hookState(hook.id);
      const later = (await t.client.clock()).now;
      expect(backoff.alert_status).toBe('temporarily_disabled');
      expect(Date.parse(backoff.disabled_until!) - later).toBeGreaterThan(2 * MINUTE - 5_000);
    });

    it('disables a hook for good after 40 consecutive failures; a successful test re-enables it', async () => {
      receiver.status = 500;
      const hook = await addHook();
      for (let n = 1; n <= 40; n += 1) {
        await fire(`Failure ${n}`);
        await t.client.advanceClock(25 * 60 * MINUTE);
      }
      expect(receiver.received).toHaveLength(40);
      expect((await hookState(hook.id)).alert_status).toBe('disabled');
      await t.client.advanceClock(7 * 24 * 60 * MINUTE);
      await fire('Never sent');
      expect(receiver.received).toHaveLength(40);

      receiver.status = 200;
      const test = await t.api('POST', `/projects/${p}/hooks/${hook.id}/test/issues_events`, {
        token: team.tokens.maintainer,
      });
      expect(test.status).toBe(201);
      expect(test.body).toEqual({ message: '201 Created' });
      expect((await hookState(hook.id)).alert_status).toBe('executable');
    });

    it('resets the failure count on any success', async () => {
      receiver.status = (count) => (count === 4 ? 200 : 500);
      const hook = await addHook();
      for (let n = 1; n <= 7; n += 1) await fire(`Flaky ${n}`);
      expect((await t.client.hook(hook.id)).recentFailures).toBe(3);
      expect((await hookState(hook.id)).alert_status).toBe('executable');
    });

    it('times out after the delivery timeout and logs "internal error"', async () => {
      await t.client.updateSettings({ deliveryTimeoutMs: 200 });
      receiver.delayMs = 1_000;
      try {
        const hook = await addHook();
        await fire('Slow receiver');
        const [delivery] = await t.client.deliveries({ hook: hook.id });
        expect(delivery).toMatchObject({
          outcome: 'failure',
          responseStatus: null,
          error: 'execution expired',
        });
        const events = await t.api<Array<{ response_status: string }>>(
          'GET',
          `/projects/${p}/hooks/${hook.id}/events`,
          { token: team.tokens.maintainer },
        );
        expect(events.body.map((event) => event.response_status)).toEqual(['internal error']);
      } finally {
        await t.client.updateSettings({ deliveryTimeoutMs: 10_000 });
      }
    });
  });

  describe('event log, resend and dropped deliveries', () => {
    it('lists deliveries with their headers (token redacted) and resends with the same Idempotency-Key', async () => {
      receiver.status = (count) => (count === 1 ? 503 : 200);
      const hook = await addHook({ token: 'secret' });
      await newIssue('Resend me');
      await t.client.flushDeliveries();
      const events = await t.api<
        Array<{ id: number; response_status: string; request_headers: Record<string, string> }>
      >('GET', `/projects/${p}/hooks/${hook.id}/events`, {
        token: team.tokens.maintainer,
      });
      expect(events.body).toHaveLength(1);
      expect(events.body[0]).toMatchObject({
        response_status: '503',
        request_headers: { 'X-Gitlab-Token': '[REDACTED]', 'X-Gitlab-Event': 'Issue Hook' },
      });
      const failures = await t.api<unknown[]>(
        'GET',
        `/projects/${p}/hooks/${hook.id}/events?status=server_failure`,
        { token: team.tokens.maintainer },
      );
      expect(failures.body).toHaveLength(1);

      const resend = await t.api(
        'POST',
        `/projects/${p}/hooks/${hook.id}/events/${events.body[0]!.id}/resend`,
        { token: team.tokens.maintainer },
      );
      expect(resend.status).toBe(201);
      expect(resend.body).toEqual({ response_status: 200 });
      const [original, repeated] = await receiver.waitFor(2);
      expect(repeated!.headers['idempotency-key']).toBe(original!.headers['idempotency-key']);
      expect(repeated!.headers['x-gitlab-webhook-uuid']).not.toBe(original!.headers['x-gitlab-webhook-uuid']);
      expect(repeated!.rawBody).toBe(original!.rawBody);

      const controlResend = await t.client.resendDelivery(events.body[0]!.id);
      expect(controlResend.idempotencyKey).toBe(original!.headers['idempotency-key']);
      expect(controlResend.resendOf).toBe(events.body[0]!.id);
    });

    it('drops the next N deliveries as if GitLab never sent them, and can send them later', async () => {
      const hook = await addHook();
      await t.client.dropDeliveries({ next: 2 });
      await newIssue('Lost 1');
      await newIssue('Lost 2');
      await newIssue('Delivered');
      await t.client.flushDeliveries();
      expect(
        receiver.received.map((delivery) => (delivery.body['object_attributes'] as { title: string }).title),
      ).toEqual(['Delivered']);
      const dropped = await t.client.deliveries({ hook: hook.id, outcome: 'dropped' });
      expect(dropped).toHaveLength(2);
      const logged = await t.api<unknown[]>('GET', `/projects/${p}/hooks/${hook.id}/events`, {
        token: team.tokens.maintainer,
      });
      expect(logged.body).toHaveLength(1);
      const resent = await t.client.resendDelivery(dropped[0]!.id);
      expect(resent.outcome).toBe('success');
      const [, late] = await receiver.waitFor(2);
      expect(late!.headers['idempotency-key']).toBe(dropped[0]!.idempotencyKey);
    });

    it('drops a percentage of deliveries', async () => {
      await addHook();
      await t.client.dropDeliveries({ percent: 100 });
      try {
        await newIssue('Dropped by chance');
        await t.client.flushDeliveries();
        expect(receiver.received).toHaveLength(0);
      } finally {
        await t.client.dropDeliveries({ percent: 0 });
      }
    });

    it('records sentAt and durationMs per delivery, filterable by time', async () => {
      const hook = await addHook();
      const before = Date.now();
      await newIssue('Timed');
      await t.client.flushDeliveries();
      const [delivery] = await t.client.deliveries({ hook: hook.id, since: before });
      expect(delivery!.sentAt).toBeGreaterThanOrEqual(before);
      expect(delivery!.durationMs).toBeGreaterThan(0);
      expect(delivery!.requestHeaders['X-Gitlab-Event']).toBe('Issue Hook');
      expect(await t.client.deliveries({ hook: hook.id, since: Date.now() + 60_000 })).toEqual([]);
    });
  });
});
