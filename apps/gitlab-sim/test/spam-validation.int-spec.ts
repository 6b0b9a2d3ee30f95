import { GitlabSimError } from '@testkase/testing';

import { createTeamProject, enc, startTestSim, type TeamProject, type TestSim } from './helpers/test-sim';
import { WebhookReceiver } from './helpers/webhook-receiver';

const CAPTCHA_MESSAGE =
  'Your issue has been recognized as spam. Please, change the content or solve the reCAPTCHA to proceed.';
const REFUSED_MESSAGE = 'Your issue has been recognized as spam. Please, change the content to proceed.';
const SITE_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';

interface Issue {
  iid: number;
  title: string;
  description: string | null;
}

describe('issue writes GitLab refuses', () => {
  let t: TestSim;
  let team: TeamProject;
  let receiver: WebhookReceiver;
  let hookId: number;
  let p: string;

  beforeAll(async () => {
    t = await startTestSim();
    receiver = await WebhookReceiver.start();
    team = await createTeamProject(t.client, 'qa/refusals', 'public');
    p = enc(team.path);
    const hook = await t.api<{ id: number }>('POST', `/projects/${p}/hooks`, {
      token: team.tokens.maintainer,
      body: { url: receiver.url, push_events: false, issues_events: true },
    });
    hookId = hook.body.id;
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const create = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.api<Record<string, unknown>>('POST', `/projects/${p}/issues`, {
      token: team.tokens.developer,
      body,
      headers,
    });
  const titles = async (): Promise<string[]> =>
    (await t.client.state({ project: team.path })).issues.map((issue) => String(issue['title']));
  const hookedTitles = async (): Promise<string[]> => {
    await t.client.flushDeliveries();
    return (await t.client.deliveries({ hook: hookId })).map(
      (delivery) => (delivery.payload['object_attributes'] as { title: string }).title,
    );
  };

  describe('spam check', () => {
    afterEach(() => t.client.updateProject(team.path, { spamCheck: null }));

    it('asks for a CAPTCHA with 409 when reCAPTCHA is configured; nothing is created, no webhook', async () => {
      const settings = await t.client.updateProject(team.path, {
        spamCheck: { keywords: ['casino'], captcha: true },
      });
      expect(settings.spamCheck).toEqual({ keywords: ['casino'], captcha: true, captchaSiteKey: SITE_KEY });

      const response = await create({ title: 'Cheap CASINO bonus' });

      expect(response.status).toBe(409);
      expect(response.body).toEqual({
        needs_captcha_response: true,
        spam_log_id: expect.any(Number),
        captcha_site_key: SITE_KEY,
        message: { error: CAPTCHA_MESSAGE },
      });
      expect(Object.keys(response.body)).toEqual([
        'needs_captcha_response',
        'spam_log_id',
        'captcha_site_key',
        'message',
      ]);
      expect(await titles()).not.toContain('Cheap CASINO bonus');
      expect(await hookedTitles()).not.toContain('Cheap CASINO bonus');
      const state = await t.client.state({ project: team.path });
      expect(state.spamLogs).toEqual([
        expect.objectContaining({ id: response.body['spam_log_id'], recaptchaVerified: false }),
      ]);

      // The resubmission with a solved CAPTCHA goes through.
      const solved = await create(
        { title: 'Cheap CASINO bonus' },
        {
          'X-GitLab-Captcha-Response': 'solved-captcha-token',
          'X-GitLab-Spam-Log-Id': String(response.body['spam_log_id']),
        },
      );
      expect(solved.status).toBe(201);
      expect((await t.client.state({ project: team.path })).spamLogs[0]).toMatchObject({
        recaptchaVerified: true,
      });
      expect(await hookedTitles()).toContain('Cheap CASINO bonus');
    });

    it('refuses with 400 and the model error when reCAPTCHA is not configured', async () => {
      await t.client.updateProject(team.path, { spamCheck: { keywords: ['Pills'], captcha: false } });
      const response = await create({ title: 'Hello', description: 'buy cheap pills here' });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ message: { base: [REFUSED_MESSAGE] } });
      // A CAPTCHA answer does not help without reCAPTCHA.
      const again = await create(
        { title: 'Hello', description: 'buy cheap pills here' },
        { 'X-GitLab-Captcha-Response': 'token', 'X-GitLab-Spam-Log-Id': '1' },
      );
      expect(again.status).toBe(400);
      expect(await titles()).not.toContain('Hello');
      expect(await hookedTitles()).not.toContain('Hello');
    });

    it('lets other issues through, and checks edits of title and description', async () => {
      await t.client.updateProject(team.path, { spamCheck: { keywords: ['casino'], captcha: false } });
      const ham = await create({ title: 'A genuine bug report' });
      expect(ham.status).toBe(201);
      expect(await hookedTitles()).toContain('A genuine bug report');
      const iid = ham.body['iid'] as number;
      const edit = await t.api('PUT', `/projects/${p}/issues/${iid}`, {
        token: team.tokens.developer,
        body: { title: 'Visit my casino' },
      });
      expect(edit.status).toBe(400);
      expect(edit.body).toEqual({ message: { base: [REFUSED_MESSAGE] } });
      const after = await t.api<Issue>('GET', `/projects/${p}/issues/${iid}`, {
        token: team.tokens.developer,
      });
      expect(after.body.title).toBe('A genuine bug report');
      // Other attributes are not checked.
      const close = await t.api('PUT', `/projects/${p}/issues/${iid}`, {
        token: team.tokens.developer,
        body: { state_event: 'close' },
      });
      expect(close.status).toBe(200);
    });

    it('validates the control setting', async () => {
      for (const spamCheck of [{ keywords: [] }, { keywords: ['x'], captcha: 'yes' }, { keywords: [42] }]) {
        const update = t.client.updateProject(team.path, {
          spamCheck: spamCheck as unknown as { keywords: string[] },
        });
        await expect(update).rejects.toBeInstanceOf(GitlabSimError);
        await expect(update).rejects.toMatchObject({ status: 400, body: { error: expect.any(String) } });
      }
    });
  });

  describe('validation and project state', () => {
    it('refuses a title over 255 characters (stripped) with the model error', async () => {
      const tooLong = await create({ title: 'x'.repeat(256) });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body).toEqual({ message: { title: ['is too long (maximum is 255 characters)'] } });
      expect((await create({ title: ` ${'y'.repeat(255)} ` })).status).toBe(201);
      // Characters, not UTF-16 units: 255 emoji fit.
      expect((await create({ title: '🐞'.repeat(255) })).status).toBe(201);
    });

    it('refuses a description over 1 MiB in bytes with the BytesizeValidator message', async () => {
      const message = { message: { description: ['is too long (1 MB). The maximum size is 1 MB.'] } };
      const ascii = await create({ title: 'Huge', description: 'a'.repeat(1_048_577) });
      expect(ascii.status).toBe(400);
      expect(ascii.body).toEqual(message);
      // 524,289 characters of two bytes each: over the limit in bytes.
      const accented = await create({ title: 'Huge accents', description: 'é'.repeat(524_289) });
      expect(accented.status).toBe(400);
      expect(accented.body).toEqual(message);
      const exact = await create({ title: 'Exactly 1 MiB', description: 'a'.repeat(1_048_576) });
      expect(exact.status).toBe(201);
      expect(await titles()).not.toContain('Huge');
    });

    it('answers 403 when the project has issues turned off', async () => {
      await t.client.createProject({ path: 'qa/no-issues', issuesEnabled: false });
      await t.client.addMember({
        project: 'qa/no-issues',
        username: `developer-qa-refusals`,
        accessLevel: 30,
      });
      const path = `/projects/${enc('qa/no-issues')}/issues`;
      const created = await t.api('POST', path, { token: team.tokens.developer, body: { title: 'Nope' } });
      expect(created.status).toBe(403);
      expect(created.body).toEqual({ message: '403 Forbidden' });
      expect((await t.api('GET', path, { token: team.tokens.developer })).status).toBe(403);
    });

    it('makes an archived project read-only: writes answer 403, reads work', async () => {
      const issue = await create({ title: 'Before archiving' });
      const iid = issue.body['iid'] as number;
      await t.client.updateProject(team.path, { archived: true });
      try {
        const token = team.tokens.maintainer;
        const writes = [
          await t.api('POST', `/projects/${p}/issues`, { token, body: { title: 'After archiving' } }),
          await t.api('PUT', `/projects/${p}/issues/${iid}`, { token, body: { title: 'Renamed' } }),
          await t.api('POST', `/projects/${p}/issues/${iid}/notes`, { token, body: { body: 'Hello' } }),
          await t.api('POST', `/projects/${p}/labels`, { token, body: { name: 'new', color: '#ff0000' } }),
          await t.api('DELETE', `/projects/${p}/issues/${iid}`, { token: team.tokens.owner }),
        ];
        expect(writes.map((response) => response.status)).toEqual([403, 403, 403, 403, 403]);
        for (const response of writes) expect(response.body).toEqual({ message: '403 Forbidden' });
        expect((await t.api('GET', `/projects/${p}/issues/${iid}`, { token })).status).toBe(200);
        expect((await t.api('GET', `/projects/${p}/issues/${iid}/notes`, { token })).status).toBe(200);
        expect(await titles()).not.toContain('After archiving');
      } finally {
        await t.client.updateProject(team.path, { archived: false });
      }
    });
  });
});
