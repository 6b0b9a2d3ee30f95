/**
 * `npm run soak [-- --minutes N --rate R --core-rate R --connections N --issues N --settle S --no-results]`
 * (issue 14, "Soak with faults"; bench/soak/README.md). The production topology on loopback — a
 * 3-node NATS JetStream cluster (R3), a Postgres of the soak's own, gitlab-sim under GitLab.com's
 * rate limits, and two replicas of every service from dist (gateways behind a balancer) — under
 * GitLab-side events and TestKase-side actions for N minutes while NATS nodes, Postgres and every
 * replica are killed and the simulator answers 5xx and 429 bursts and drops 1 % of its deliveries;
 * then, after a bounded settle time, the ledger (ledger.ts) must balance. Results go to the `soak`
 * section of bench/RESULTS.md.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';

import { createSimProject, GitlabSimClient } from '@testkase/testing';

import { recordFigures } from '../lib/goals';
import { pool, waitUntil } from '../lib/load-tools';
import { publishResults } from '../lib/results';
import { percentile } from '../lib/sync-stack';
import { FaultPlan } from './faults';
import { checkLedger, type Ledger } from './ledger';
import { CoreLoad, GitlabLoad } from './load';
import { Monitor } from './monitor';
import { SERVICES, Topology } from './topology';
import { sleep, World, type SoakProject } from './world';

interface Options {
  minutes: number;
  rate: number;
  coreRate: number;
  connections: number;
  issues: number;
  settleSeconds: number;
  results: boolean;
  faults: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    minutes: 10,
    rate: 500,
    coreRate: 20,
    connections: 20,
    issues: 50,
    settleSeconds: 300,
    results: true,
    faults: true,
  };
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    const value = () => {
      const next = Number(argv[++index]);
      if (!Number.isFinite(next) || next <= 0) throw new Error(`${arg} needs a positive number`);
      return next;
    };
    if (arg === '--minutes') options.minutes = value();
    else if (arg === '--rate') options.rate = value();
    else if (arg === '--core-rate') options.coreRate = value();
    else if (arg === '--connections') options.connections = Math.round(value());
    else if (arg === '--issues') options.issues = Math.round(value());
    else if (arg === '--settle') options.settleSeconds = value();
    else if (arg === '--no-results') options.results = false;
    else if (arg === '--no-faults') options.faults = false;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

const log = (message: string) =>
  process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const s = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

async function setUpProjects(world: World, options: Options): Promise<void> {
  const simUrl = world.sim.baseUrl;
  await pool(options.connections, 4, async (index) => {
    const gitlab = await createSimProject(simUrl, {
      path: `soak-${index}/project-${index}`,
      issues: {
        count: options.issues,
        titleTemplate: 'Requirement {{iid}}',
        descriptionTemplate: 'As a **buyer** I want feature {{n}}.',
        labels: ['soak'],
        priorityLabelsPercent: 50,
      },
    });
    const read = await world.sim.createToken({ username: gitlab.developer, scopes: ['api'] });
    const projectId = `soak-${index}-${randomBytes(2).toString('hex')}`;
    const project: SoakProject = {
      index,
      gitlab,
      readToken: read.token,
      projectId,
      connectionId: '',
      requirements: new Map(),
      editable: [],
      state: new Map(),
      defectIssues: [],
    };
    const response = await world.core<{ id?: string; connectionId?: string }>(
      'connection-service',
      'PUT',
      `/v1/projects/${projectId}/connection`,
      {
        platform: 'gitlab',
        instanceUrl: new URL(gitlab.webUrl).origin,
        projectRef: gitlab.path,
        token: gitlab.token,
      },
    );
    if (response.status >= 300)
      throw new Error(`connect ${projectId}: ${response.status} ${JSON.stringify(response.body)}`);
    project.connectionId = response.body.connectionId ?? response.body.id ?? '';
    world.projects[index] = project;
  });
  log(`${options.connections} connections made; waiting for the backfills`);
  await waitUntil(
    'every backfill',
    300_000,
    async () => {
      for (const project of world.projects) {
        if (project.requirements.size === options.issues) continue;
        const requirements = await world.requirementsOf(project);
        if (requirements.length < options.issues) return undefined;
        for (const requirement of requirements) {
          project.requirements.set(requirement.external.iid, requirement.id);
          project.state.set(requirement.external.iid, requirement.status === 'Active' ? 'opened' : 'closed');
        }
      }
      return true;
    },
    { intervalMs: 1_000 },
  );
  for (const project of world.projects) {
    // Project 0's first issue is the canary: only the fault plan edits it.
    project.editable.push(
      ...[...project.requirements.keys()].filter((iid) => project.index !== 0 || iid !== 1),
    );
  }
}

/** The settle time: until every consumer is idle and the ledger (from the control API) balances. */
async function settle(
  world: World,
  monitor: Monitor,
  options: Options,
  injected429: () => number,
): Promise<number> {
  const started = Date.now();
  const deadline = started + options.settleSeconds * 1000;
  let last: Ledger | undefined;
  while (Date.now() < deadline) {
    await monitor.pollRequests().catch(() => undefined);
    await monitor.scrape();
    last = await checkLedger(world, monitor, { rest: false, injected429: injected429() }).catch(
      (error: unknown) => {
        log(`ledger round failed: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      },
    );
    if (last?.balanced) return Date.now() - started;
    const open = last?.lines
      .filter((line) => !line.ok)
      .map((line) => `${line.name}: ${line.detail.slice(0, 160)}`);
    log(`settling (${Math.round((Date.now() - started) / 1000)} s): ${open?.join(' | ') ?? 'no ledger'}`);
    await sleep(5_000);
  }
  return Date.now() - started;
}

function report(
  options: Options,
  world: World,
  monitor: Monitor,
  faults: FaultPlan,
  ledger: Ledger,
  timing: { loadMs: number; settleMs: number },
): string {
  const counts = world.counts;
  const sent = counts.gitlabEdits + counts.gitlabNotes;
  const lags = [...monitor.lags].sort((a, b) => a - b);
  const core = [...counts.coreActions.values()].reduce((sum, value) => sum + value, 0);
  const duplicates =
    monitor.counter('gateway_deliveries_total', { outcome: 'duplicate' }) +
    monitor.counter('requirement_sync_issue_events_total', { outcome: 'duplicate' }) +
    monitor.counter('defect_sync_issue_events_total', { outcome: 'duplicate' }) +
    monitor.counter('comment_relay_note_events_total', { outcome: 'duplicate' });
  const repairs =
    monitor.counter('requirement_sync_reconciliation_repairs_total') +
    monitor.counter('comment_relay_repairs_total');
  const cpu = monitor.cpu();
  const loadSeconds = timing.loadMs / 1000;
  const statuses = [...counts.coreStatuses]
    .sort()
    .map(([key, value]) => `${key}×${value}`)
    .join(', ');
  const rows = ledger.lines.map(
    (line) => `| ${line.ok ? '✅' : '❌'} ${line.name} | ${line.detail.replace(/\|/g, '\\|')} |`,
  );
  const faultRows = faults.records
    .sort((a, b) => a.at - b.at)
    .map(
      (fault) =>
        `| ${s(fault.at)} | ${fault.kind} | ${fault.target} | ${s(fault.downMs)} | ${s(fault.recoveryMs)} | ${fault.note ?? ''} |`,
    );
  const byKind = new Map<string, number[]>();
  for (const fault of faults.records)
    if (fault.recoveryMs !== null)
      byKind.set(fault.kind, [...(byKind.get(fault.kind) ?? []), fault.recoveryMs]);
  const recovery = [...byKind]
    .map(
      ([kind, values]) =>
        `${kind} ${s(
          percentile(
            [...values].sort((a, b) => a - b),
            50,
          ),
        )} median / ${s(Math.max(...values))} max`,
    )
    .join(' · ');
  return [
    `### Soak with faults (\`npm run soak -- --minutes ${options.minutes}${options.rate !== 500 ? ` --rate ${options.rate}` : ''}\`)`,
    '',
    `${options.minutes} min of load on a 3-node NATS JetStream cluster (streams and buckets R3), a Postgres of its own, gitlab-sim (GitLab.com rate limits, 1 % of deliveries dropped) and two replicas of each of ${SERVICES.length} services (gateways behind a TCP balancer), ${options.connections} connections of ${options.issues} issues, all on this machine (${os.cpus().length} cores shared with other work). Sweeps every 10 s.`,
    '',
    `**Ledger: ${ledger.balanced ? 'balanced' : 'NOT balanced'}** after a settle time of ${s(timing.settleMs)} (bound ${options.settleSeconds} s).`,
    '',
    '| Check | Result |',
    '|---|---|',
    ...rows,
    '',
    '| Figure | Value |',
    '|---|---:|',
    `| GitLab events asked (edits + notes), target ${options.rate}/s | ${sent} = **${(sent / loadSeconds).toFixed(1)}/s** achieved (${counts.gitlabEdits} edits, ${counts.gitlabNotes} notes; ${counts.gitlabSkipped} shed because the simulator was behind, ${counts.controlErrors} control calls failed) |`,
    `| Webhook deliveries acknowledged / failed / dropped by the simulator | ${ledger.figures['deliveries acknowledged']} / ${ledger.figures['deliveries failed']} / ${ledger.figures['deliveries dropped']} (skipped, hook disabled: ${ledger.figures['deliveries skipped (hook disabled)']}) |`,
    `| Failed deliveries by cause | ${monitor.failureCauses() || '—'} |`,
    `| Gateway answers (all replicas) | ${[...monitor.counterBy('gateway_deliveries_total', 'outcome')].map(([outcome, count]) => `${outcome} ${count}`).join(', ')} |`,
    `| Messages in GITLAB_EVENTS | ${ledger.figures['GITLAB_EVENTS messages']} |`,
    `| TestKase-side actions, target ${options.coreRate}/s | ${core} = **${(core / loadSeconds).toFixed(1)}/s** (${[...counts.coreActions].map(([k, v]) => `${k} ${v}`).join(', ')}; ${counts.coreSkipped} shed, ${counts.coreRetries} retried on another replica, ${counts.coreFailed} never answered) |`,
    `| Answers | ${statuses} |`,
    `| Repaired by reconciliation (sweep repairs counted by requirement-sync and comment-relay) | ≥ ${repairs} |`,
    `| Duplicates suppressed (gateway + consumers' inboxes) | ≥ ${duplicates} |`,
    `| Dead letters | ${ledger.figures['dead letters']} |`,
    `| Lag GitLab updated_at → \`testkase.requirement.upserted\` (${lags.length} events, received live) | p50 ${s(percentile(lags, 50))} · p99 ${s(percentile(lags, 99))} · max **${s(lags.at(-1) ?? null)}** |`,
    `| Largest backlog of a GITLAB_EVENTS consumer | ${monitor.maxBacklog.pending} (${monitor.maxBacklog.consumer}, at ${s(monitor.maxBacklog.at)}) |`,
    `| GitLab writes by the integration / 429s (injected) | ${ledger.figures['GitLab writes by the integration']} / ${ledger.figures['429 answers']} (${ledger.figures['429 injected']}) |`,
    `| CPU seconds during the run | ${[...cpu].map(([part, seconds]) => `${part} ${seconds.toFixed(0)}`).join(', ')} (${loadSeconds.toFixed(0)} s of load on ${os.cpus().length} cores) |`,
    '',
    `Recovery after each fault (from the fault until an edit made at that moment shows on its requirement): ${recovery || '—'}.`,
    '',
    '| At | Fault | Target | Down | Recovery | |',
    '|---:|---|---|---:|---:|---|',
    ...faultRows,
  ].join('\n');
}

/** The soak's figures for the report's summary (bench/lib/goals.ts): the ledger and the rates. */
function recordSoakFigures(options: Options, world: World, ledger: Ledger, loadMs: number): void {
  const seconds = loadMs / 1000;
  const counts = world.counts;
  const core = [...counts.coreActions.values()].reduce((a, b) => a + b, 0);
  const unbalanced = ledger.lines.filter((line) => !line.ok);
  recordFigures('soak', 'soak', [
    {
      figure: `ledger lines that do not balance (of ${ledger.lines.length}), ${options.minutes} min with faults`,
      value: unbalanced.length,
      unit: '',
      goal: { comparison: '==', target: 0, source: 'issue 14' },
      ...(unbalanced.length
        ? { limits: unbalanced.map((line) => `${line.name}: ${line.detail}`).join('; ') }
        : {}),
    },
    {
      figure: 'GitLab events per second achieved',
      value: (counts.gitlabEdits + counts.gitlabNotes) / seconds,
      unit: '/s',
      goal: { comparison: '>=', target: 500, source: 'issue 14' },
      limits: `the simulator fell behind on the shared 2 cores (${counts.gitlabSkipped} events shed); see the section`,
    },
    {
      figure: 'TestKase-side actions per second achieved',
      value: core / seconds,
      unit: '/s',
      goal: { comparison: '>=', target: 20, source: 'issue 14' },
      limits: 'the same cores; see the section',
    },
    {
      figure: 'dead letters',
      value: Number(ledger.figures['dead letters'] ?? Number.NaN),
      unit: '',
      goal: { comparison: '==', target: 0, source: 'issue 14' },
    },
  ]);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const label = `soak-${Date.now().toString(36)}`;
  log(`starting the topology (${label})`);
  let topology: Topology | undefined;
  let faults: FaultPlan | undefined;
  let stopping = false;
  const cleanup = async () => {
    faults?.cancel();
    await topology?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping everything the soak started`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A bug of the soak itself must not leave servers behind either.
  process.once('uncaughtException', (error) => {
    process.stderr.write(`soak crashed: ${error.stack ?? error.message}\n`);
    stopping = true;
    void cleanup().finally(() => process.exit(1));
  });
  try {
    topology = await Topology.start(label, 'gitlab.com', (step) => log(`… ${step}`));
    const sim = new GitlabSimClient(topology.stack.url('gitlab-sim'));
    await sim.setRateLimits({ preset: 'gitlab.com' });
    const world = new World(topology, sim);
    await setUpProjects(world, options);
    const canaryProject = world.projects[0]!;
    const canary = { project: canaryProject, iid: 1, requirementId: canaryProject.requirements.get(1)! };

    const monitor = new Monitor(world, topology);
    const gitlabLoad = new GitlabLoad(world, options.rate);
    const coreLoad = new CoreLoad(world, options.coreRate);
    const durationMs = options.minutes * 60_000;
    faults = new FaultPlan(world, durationMs, canary, 8_000, 4_000, log);
    await sim.dropDeliveries({ percent: 1 });
    const startedAt = Date.now();
    await monitor.start(startedAt);
    gitlabLoad.start();
    coreLoad.start();
    if (options.faults) faults.start(startedAt);
    log(`load running for ${options.minutes} min`);
    const progress = setInterval(() => {
      const c = world.counts;
      log(
        `${Math.round((Date.now() - startedAt) / 1000)} s: ${c.gitlabEdits + c.gitlabNotes} GitLab events, ${[...c.coreActions.values()].reduce((a, b) => a + b, 0)} TestKase actions, ${faults!.records.length} faults done, ${c.gitlabSkipped} shed`,
      );
    }, 15_000);
    await sleep(durationMs);
    clearInterval(progress);
    await Promise.all([gitlabLoad.stop(), coreLoad.stop()]);
    const loadMs = Date.now() - startedAt;
    log('load stopped; waiting for the faults to end');
    if (options.faults) await faults.finish();
    await sim.dropDeliveries({ percent: 0 });
    await coreLoad.resolvePending(true);
    const injected429 = () =>
      faults!.simFaults.filter((fault) => fault.kind === '429').reduce((sum, fault) => sum + fault.hits, 0);
    log('settling');
    const settleMs = await settle(world, monitor, options, injected429);
    await monitor.stop();
    log('final ledger over the REST APIs');
    const ledger = await checkLedger(world, monitor, { rest: true, injected429: injected429() });
    const markdown = report(options, world, monitor, faults, ledger, { loadMs, settleMs });
    if (options.results) {
      publishResults('soak', markdown);
      recordSoakFigures(options, world, ledger, loadMs);
    } else process.stdout.write(`\n${markdown}\n`);
    if (!ledger.balanced) process.exitCode = 2;
  } finally {
    if (!stopping) {
      stopping = true;
      log('stopping everything the soak started');
      await cleanup();
    }
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(
      `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
