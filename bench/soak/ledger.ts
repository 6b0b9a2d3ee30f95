import { connect } from 'nats';

import type { DefectV1, RequirementV1 } from '@testkase/contracts';
import { NatsProbe, type SimApiRequest } from '@testkase/testing';

import { pool } from '../lib/load-tools';
import type { Monitor } from './monitor';
import {
  DEFECT_PRIORITY_LABEL,
  DEFECT_STATE,
  PRIORITY_LABELS,
  requirementPriority,
  type SoakProject,
  type World,
} from './world';

const LINK_MARKER = '<!-- testkase:test-cases -->';
const DEFECT_MARKER = /<!-- testkase:defect:([A-Za-z0-9_.:-]+) -->/;
const COMMENT_MARKER = /<!-- testkase:comment:([A-Za-z0-9_.:-]+) -->/;

interface GlIssue {
  iid: number;
  title: string;
  state: 'opened' | 'closed';
  labels: string[];
  confidential: boolean;
  description: string;
}

interface GlNote {
  id: number;
  iid: number;
  body: string;
  author: string;
  system: boolean;
}

/** One project's issues and notes as GitLab shows them. */
interface GlProject {
  issues: GlIssue[];
  notes: GlNote[];
}

export interface LedgerLine {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Ledger {
  balanced: boolean;
  lines: LedgerLine[];
  /** Figures the report shows besides the lines. */
  figures: Record<string, number | string>;
}

const sample = (items: readonly string[], count = 5) =>
  items.length === 0 ? '' : ` (e.g. ${items.slice(0, count).join('; ')}${items.length > count ? '; …' : ''})`;

/** GitLab as its REST API shows it, read with the project's Developer token (its own budget). */
async function restView(world: World, project: SoakProject): Promise<GlProject> {
  const base = `${world.sim.apiUrl}/projects/${project.gitlab.id}`;
  const get = async <T>(path: string): Promise<T[]> => {
    const items: T[] = [];
    for (let page = 1; ; page += 1) {
      const response = await fetch(
        `${base}${path}${path.includes('?') ? '&' : '?'}per_page=100&page=${page}`,
        {
          headers: { 'private-token': project.readToken },
          signal: AbortSignal.timeout(30_000),
        },
      );
      if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
      const batch = (await response.json()) as T[];
      items.push(...batch);
      if (batch.length < 100) return items;
    }
  };
  const issues = (
    await get<{
      iid: number;
      title: string;
      state: 'opened' | 'closed';
      labels: string[];
      confidential: boolean;
      description: string | null;
    }>('/issues?state=all&scope=all')
  ).map((issue) => ({ ...issue, description: issue.description ?? '' }));
  const notes: GlNote[] = [];
  await pool(issues.length, 8, async (index) => {
    const issue = issues[index]!;
    const raw = await get<{ id: number; body: string; system: boolean; author?: { username?: string } }>(
      `/issues/${issue.iid}/notes?sort=asc`,
    );
    for (const note of raw)
      notes.push({
        id: note.id,
        iid: issue.iid,
        body: note.body,
        author: note.author?.username ?? '',
        system: note.system,
      });
  });
  return { issues, notes };
}

/** The same from the simulator's control API (no rate limit): for the rounds of the settle time. */
async function stateView(world: World, project: SoakProject): Promise<GlProject> {
  const state = await world.sim.state({ project: project.gitlab.id, limit: 1_000_000 });
  const users = new Map(state.users.map((user) => [user['id'] as number, user['username'] as string]));
  const byId = new Map<number, number>();
  const issues = state.issues.map((issue) => {
    byId.set(issue['id'] as number, issue['iid'] as number);
    return {
      iid: issue['iid'] as number,
      title: issue['title'] as string,
      state: issue['state'] as 'opened' | 'closed',
      labels: issue['labels'] as string[],
      confidential: issue['confidential'] as boolean,
      description: (issue['description'] as string | null) ?? '',
    };
  });
  const notes = state.notes.map((note) => ({
    id: note['id'] as number,
    iid: byId.get(note['issueId'] as number) ?? 0,
    body: note['body'] as string,
    author: users.get(note['authorId'] as number) ?? '',
    system: note['system'] as boolean,
  }));
  return { issues, notes };
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Checks that the books balance: GitLab's state against TestKase's (over both APIs), the events
 * on NATS against the deliveries, and the simulator's request log against what the scenario asked.
 */
export async function checkLedger(
  world: World,
  monitor: Monitor,
  options: { rest: boolean; injected429: number },
): Promise<Ledger> {
  const lines: LedgerLine[] = [];
  const figures: Record<string, number | string> = {};
  const views = new Map<SoakProject, GlProject>();
  await pool(world.projects.length, 4, async (index) => {
    const project = world.projects[index]!;
    views.set(project, options.rest ? await restView(world, project) : await stateView(world, project));
  });
  const bots = new Set(world.projects.map((project) => project.gitlab.bot));

  // 1. Deliveries → JetStream → consumers.
  const nc = await connect({ servers: world.topology.nats.nodeUrls, name: 'soak-ledger' });
  try {
    const jsm = await nc.jetstreamManager({ timeout: 10_000 });
    const events = await jsm.streams.info('GITLAB_EVENTS');
    const acked = monitor.counter('gitlab_sim_webhook_deliveries_total', { outcome: 'success' });
    const failed = monitor.counter('gitlab_sim_webhook_deliveries_total', { outcome: 'failure' });
    const dropped = monitor.counter('gitlab_sim_webhook_deliveries_total', { outcome: 'dropped' });
    const skipped = monitor.counter('gitlab_sim_webhook_deliveries_total', { outcome: 'skipped_disabled' });
    const stored = events.state.messages;
    figures['deliveries acknowledged'] = acked;
    figures['deliveries failed'] = failed;
    figures['deliveries dropped'] = dropped;
    figures['deliveries skipped (hook disabled)'] = skipped;
    figures['GITLAB_EVENTS messages'] = stored;
    lines.push({
      name: 'every acknowledged delivery is in GITLAB_EVENTS once',
      ok: stored >= acked && stored <= acked + failed,
      detail: `${stored} messages for ${acked} acknowledged deliveries (+ at most ${failed} that failed after the gateway took them)`,
    });
    const behind: string[] = [];
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.startsWith('KV_') || stream.config.name === 'DEAD_LETTERS') continue;
      for await (const consumer of jsm.consumers.list(stream.config.name)) {
        if (consumer.name.startsWith('probe_')) continue;
        if (consumer.num_pending > 0 || consumer.num_ack_pending > 0)
          behind.push(
            `${consumer.name}: ${consumer.num_pending} pending, ${consumer.num_ack_pending} unacked`,
          );
      }
    }
    lines.push({
      name: 'every durable consumer has handled everything',
      ok: behind.length === 0,
      detail: behind.length === 0 ? 'all caught up' : behind.join('; '),
    });
    const dead = await jsm.streams.info('DEAD_LETTERS').catch(() => undefined);
    const deadCount = dead?.state.messages ?? 0;
    figures['dead letters'] = deadCount;
    let deadDetail = '0';
    if (deadCount > 0) {
      const probe = await NatsProbe.connect(world.topology.nats.urls, '');
      try {
        const letters = await probe.read('DEAD_LETTERS', 'deadletter.>');
        const causes = new Map<string, number>();
        for (const letter of letters) {
          const cause = `${letter.subject}: ${letter.headers['x-dead-letter-code'] ?? ''} ${(letter.headers['x-dead-letter-error'] ?? '').slice(0, 120)} (msg ${letter.headers['x-dead-letter-msg-id'] ?? '?'})`;
          causes.set(cause, (causes.get(cause) ?? 0) + 1);
        }
        deadDetail = [...causes].map(([cause, count]) => `${cause} ×${count}`).join('; ');
      } finally {
        await probe.close().catch(() => undefined);
      }
    }
    lines.push({ name: 'no dead letters', ok: deadCount === 0, detail: deadDetail });
  } finally {
    await nc.close().catch(() => undefined);
  }

  // 2. Requirements equal their issues.
  const requirementProblems: string[] = [];
  let requirementsChecked = 0;
  for (const project of world.projects) {
    const view = views.get(project)!;
    const requirements = await world.requirementsOf(project);
    const byIid = new Map<number, RequirementV1[]>();
    for (const requirement of requirements)
      byIid.set(requirement.external.iid, [...(byIid.get(requirement.external.iid) ?? []), requirement]);
    const issues = view.issues.filter((issue) => !DEFECT_MARKER.test(issue.description));
    for (const issue of issues) {
      const found = byIid.get(issue.iid) ?? [];
      byIid.delete(issue.iid);
      const where = `${project.projectId}#${issue.iid}`;
      if (found.length !== 1) {
        requirementProblems.push(`${where}: ${found.length} requirements`);
        continue;
      }
      requirementsChecked += 1;
      const requirement = found[0]!;
      const expected = {
        title: issue.title,
        status: issue.state === 'opened' ? 'Active' : 'Deprecated',
        priority: requirementPriority(issue.labels),
        labels: [...issue.labels].sort().join(','),
        confidential: issue.confidential,
      };
      const actual = {
        title: requirement.title,
        status: requirement.status,
        priority: requirement.priority,
        labels: [...requirement.labels].sort().join(','),
        confidential: requirement.confidential,
      };
      for (const field of Object.keys(expected) as Array<keyof typeof expected>) {
        if (expected[field] !== actual[field])
          requirementProblems.push(
            `${where} ${requirement.id}: ${field} GitLab "${expected[field]}" ≠ "${actual[field]}"`,
          );
      }
    }
    for (const [iid, extra] of byIid)
      requirementProblems.push(
        `${project.projectId}#${iid}: ${extra.length} requirement(s) without a requirement issue`,
      );
  }
  figures['requirements checked'] = requirementsChecked;
  lines.push({
    name: 'every requirement equals its GitLab issue',
    ok: requirementProblems.length === 0,
    detail: `${requirementsChecked} equal, ${requirementProblems.length} differences${sample(requirementProblems)}`,
  });

  // 3. Pushed defects: exactly one issue each, equal to it.
  const defectProblems: string[] = [];
  let defectsChecked = 0;
  const defectOfIssue = new Map<string, string>();
  await pool([...world.defects.values()].length, 8, async (index) => {
    const model = [...world.defects.values()][index]!;
    const view = views.get(model.project)!;
    const marked = view.issues.filter(
      (issue) => DEFECT_MARKER.exec(issue.description)?.[1] === model.defectId,
    );
    const defect: DefectV1 | undefined = await world.defect(model).catch(() => undefined);
    if (!model.accepted && !defect) {
      if (marked.length > 0)
        defectProblems.push(`${model.defectId}: never accepted but ${marked.length} issues`);
      return;
    }
    const where = `${model.project.projectId}/${model.defectId}`;
    if (marked.length !== 1 || !defect?.issue) {
      defectProblems.push(
        `${where}: ${marked.length} GitLab issues, defect-sync says #${defect?.issue?.iid ?? '—'}`,
      );
      return;
    }
    const issue = marked[0]!;
    defectOfIssue.set(`${model.project.index}#${issue.iid}`, model.defectId);
    defectsChecked += 1;
    const issuePriority = issue.labels.filter((label) => PRIORITY_LABELS.includes(label)).join(',');
    const checks: Array<[string, unknown, unknown]> = [
      ['iid', issue.iid, defect.issue.iid],
      ['state', issue.state, DEFECT_STATE[defect.status]],
      ['priority', issuePriority, DEFECT_PRIORITY_LABEL[defect.priority]],
      ['title', issue.title, defect.title],
    ];
    for (const [field, gitlab, testkase] of checks)
      if (gitlab !== testkase)
        defectProblems.push(
          `${where} #${issue.iid}: ${field} GitLab "${String(gitlab)}" ≠ "${String(testkase)}" (${defect.status}, ${defect.syncStatus})`,
        );
  });
  figures['defects checked'] = defectsChecked;
  lines.push({
    name: 'every pushed defect has exactly one GitLab issue, equal to it',
    ok: defectProblems.length === 0,
    detail: `${defectsChecked} right, ${defectProblems.length} wrong${sample(defectProblems)}`,
  });

  // 4. Comments, both ways.
  const commentProblems: string[] = [];
  const probe = await NatsProbe.connect(world.topology.nats.urls, '');
  let relayedEvents: Array<{ data: { comment: { noteId: number } } }> = [];
  try {
    relayedEvents = await probe.events<{ comment: { noteId: number } }>(
      'TESTKASE_EVENTS',
      'testkase.defect.comment_added',
    );
  } finally {
    await probe.close().catch(() => undefined);
  }
  const eventsByNote = new Map<number, number>();
  for (const event of relayedEvents)
    eventsByNote.set(event.data.comment.noteId, (eventsByNote.get(event.data.comment.noteId) ?? 0) + 1);
  let fromTestkase = 0;
  let fromGitlab = 0;
  const posted = new Map<string, number>();
  for (const project of world.projects) {
    const view = views.get(project)!;
    for (const note of view.notes) {
      if (note.system) continue;
      const onDefect = defectOfIssue.has(`${project.index}#${note.iid}`);
      const commentId = COMMENT_MARKER.exec(note.body)?.[1];
      if (commentId && bots.has(note.author)) posted.set(commentId, (posted.get(commentId) ?? 0) + 1);
      if (!onDefect) continue;
      const relayed = eventsByNote.get(note.id) ?? 0;
      if (bots.has(note.author)) {
        if (relayed > 0) commentProblems.push(`note ${note.id} (ours) relayed back ×${relayed}`);
      } else {
        fromGitlab += 1;
        if (relayed !== 1)
          commentProblems.push(`note ${note.id} on ${project.projectId}#${note.iid}: relayed ×${relayed}`);
      }
    }
  }
  for (const model of world.comments.values()) {
    const count = posted.get(model.commentId) ?? 0;
    if (model.accepted) fromTestkase += 1;
    if (model.accepted ? count !== 1 : count > 1)
      commentProblems.push(`${model.commentId} on ${model.defect.defectId}: ${count} GitLab notes`);
  }
  figures['comments TestKase → GitLab'] = fromTestkase;
  figures['comments GitLab → TestKase'] = fromGitlab;
  lines.push({
    name: 'every comment exists exactly once on each side',
    ok: commentProblems.length === 0,
    detail: `${fromTestkase} posted to GitLab, ${fromGitlab} relayed to TestKase, ${commentProblems.length} wrong${sample(commentProblems)}`,
  });

  // 5. Linked-test-case comments.
  const linkProblems: string[] = [];
  let linksChecked = 0;
  let uncertain = 0;
  for (const project of world.projects) {
    const view = views.get(project)!;
    for (const iid of project.editable) {
      const requirementId = project.requirements.get(iid)!;
      const entry = world.links.get(requirementId);
      if (entry?.uncertain) {
        uncertain += 1;
        continue;
      }
      const ours = view.notes.filter(
        (note) =>
          note.iid === iid && !note.system && bots.has(note.author) && note.body.includes(LINK_MARKER),
      );
      const cases = [...(entry?.cases.values() ?? [])];
      const where = `${project.projectId}#${iid}`;
      if (cases.length === 0) {
        if (ours.length > 0) linkProblems.push(`${where}: ${ours.length} link comments for no link`);
        continue;
      }
      linksChecked += 1;
      if (ours.length !== 1) {
        linkProblems.push(`${where}: ${ours.length} link comments`);
        continue;
      }
      const rows = ours[0]!.body
        .split('\n')
        .filter((line) => line.startsWith('| TC-'))
        .sort();
      const expected = cases
        .map((link) => `| ${link.key} | [${link.title}](${link.url}) | ${link.status} |`)
        .sort();
      if (rows.join('\n') !== expected.join('\n'))
        linkProblems.push(`${where}: rows [${rows.join(' ')}] ≠ [${expected.join(' ')}]`);
    }
  }
  lines.push({
    name: 'every linked-test-case comment is right',
    ok: linkProblems.length === 0,
    detail: `${linksChecked} right, ${linkProblems.length} wrong${uncertain ? `, ${uncertain} not judged (a call never answered)` : ''}${sample(linkProblems)}`,
  });

  // 6. Echo writes and 429s, from the request log.
  const requests = [...monitor.requests.values()];
  const writes = requests.filter(
    (request) =>
      WRITE.has(request.method) &&
      request.username !== null &&
      bots.has(request.username) &&
      request.status !== null &&
      request.status < 300,
  );
  const echo = echoWrites(world, writes, defectOfIssue);
  figures['GitLab writes by the integration'] = writes.length;
  lines.push({
    name: 'zero echo writes',
    ok: echo.extra.length === 0,
    detail: `${writes.length} writes (${echo.summary}); ${echo.extra.length} beyond what the scenario asked${sample(echo.extra)}`,
  });
  const tooMany = requests.filter((request) => request.status === 429);
  const ours429 = Math.max(0, tooMany.length - options.injected429);
  figures['429 answers'] = tooMany.length;
  figures['429 injected'] = options.injected429;
  lines.push({
    name: 'zero 429s caused by us',
    ok: ours429 === 0,
    detail: `${tooMany.length} 429s, ${options.injected429} of them injected`,
  });

  return { balanced: lines.every((line) => line.ok), lines, figures };
}

/**
 * The integration's successful writes against what the scenario asked for: on a requirement's
 * issue only link-comment notes, at most one per link change; on a defect's issue at most one
 * edit per accepted PATCH (the push's own label fix-up aside) and one note per comment; one
 * creation per defect (checked in its line); labels at most the four priority labels per project.
 */
function echoWrites(world: World, writes: SimApiRequest[], defectOfIssue: Map<string, string>) {
  const byProject = new Map(world.projects.map((project) => [project.gitlab.id, project]));
  const made = new Map<string, number>();
  const sequences = new Map<string, string[]>();
  const kinds = new Map<string, number>();
  for (const write of writes) {
    const project = write.projectId === null ? undefined : byProject.get(write.projectId);
    const iid = /\/issues\/(\d+)/.exec(write.path)?.[1];
    let kind: string;
    if (/\/labels$/.test(write.path)) kind = 'label';
    else if (/\/hooks(\/\d+)?$/.test(write.path)) kind = 'hook';
    else if (write.method === 'POST' && /\/issues$/.test(write.path)) kind = 'issue creation';
    else if (iid && /\/notes/.test(write.path)) kind = 'note';
    else if (iid) kind = 'issue edit';
    else kind = `other ${write.method} ${write.route ?? write.path}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const target = `${project?.index ?? '?'}|${kind === 'label' || kind === 'hook' || kind === 'issue creation' ? '' : iid}|${kind}`;
    made.set(target, (made.get(target) ?? 0) + 1);
    sequences.set(target, [
      ...(sequences.get(target) ?? []),
      `${write.method} ${write.path.replace(/^.*\/issues\/\d+/, '')} ${write.status} @${new Date(write.at).toISOString().slice(14, 23)}`,
    ]);
  }
  const extra: string[] = [];
  const requirementByIid = new Map<string, string>();
  for (const project of world.projects)
    for (const [iid, id] of project.requirements) requirementByIid.set(`${project.index}#${iid}`, id);
  for (const [target, count] of made) {
    const [projectIndex, iid, kind] = target.split('|') as [string, string, string];
    const key = `${projectIndex}#${iid}`;
    let allowed: number;
    if (kind === 'label') allowed = PRIORITY_LABELS.length;
    else if (kind === 'hook') allowed = 1_000_000;
    else if (kind === 'issue creation')
      allowed = Number.POSITIVE_INFINITY; // checked per defect above
    else if (defectOfIssue.has(key)) {
      const defect = world.defects.get(defectOfIssue.get(key)!)!;
      allowed = kind === 'note' ? defect.comments : defect.patches + 1;
    } else if (requirementByIid.has(key)) {
      allowed = kind === 'note' ? (world.linkChanges.get(requirementByIid.get(key)!) ?? 0) : 0;
    } else allowed = 0;
    if (count > allowed)
      extra.push(
        `${kind} on project ${projectIndex} #${iid}: ${count} > ${allowed} [${(sequences.get(target) ?? []).join(', ')}]`,
      );
  }
  const summary = [...kinds].map(([kind, count]) => `${kind} ${count}`).join(', ');
  return { extra, summary };
}
