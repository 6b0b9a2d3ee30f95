export const FAULT_KINDS = ['latency', 'status', 'rate_limit', 'timeout', 'drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * When a fault strikes: `before` answers instead of the route (nothing happens on the server);
 * `after` lets the route run (writes commit, webhooks fire, limits count) and then spoils its
 * answer, like a proxy that loses GitLab's reply to a committed write.
 */
export const FAULT_PHASES = ['before', 'after'] as const;
export type FaultPhase = (typeof FAULT_PHASES)[number];

export interface FaultSpec {
  /** HTTP method, or `*` for any. */
  method: string;
  /** Path glob: `*` matches within one segment, `**` across segments (e.g. `/api/v4/projects/*\/issues`). */
  path: string;
  kind: FaultKind;
  phase: FaultPhase;
  /** `latency`: delay before the request proceeds normally (`after`: before the real answer leaves). */
  latencyMs?: number;
  /** `status`: the 5xx (or any) status to answer with. */
  status?: number;
  /** `status`/`rate_limit`: body to answer with (default: GitLab's body for that status). */
  body?: unknown;
  /** `rate_limit`: Retry-After seconds (default 60). */
  retryAfter?: number;
  /** Apply to the next N matching requests only; null = until removed. */
  count: number | null;
  /** Chance (0..1) that a matching request is affected. */
  probability: number;
}

export interface Fault extends FaultSpec {
  id: number;
  /** Requests this fault has affected so far. */
  hits: number;
}

function globToRegExp(glob: string): RegExp {
  let pattern = '';
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index];
    if (char === '*') {
      if (glob[index + 1] === '*') {
        pattern += '.*';
        index += 1;
      } else pattern += '[^/]*';
    } else pattern += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${pattern}$`);
}

/** The faults the control API has armed, matched against each incoming request. */
export class FaultInjector {
  private faults: Array<Fault & { matcher: RegExp }> = [];
  private nextId = 1;

  add(spec: FaultSpec): Fault {
    const fault = { ...spec, id: this.nextId++, hits: 0, matcher: globToRegExp(spec.path) };
    this.faults.push(fault);
    return this.describe(fault);
  }

  list(): Fault[] {
    return this.faults.map((fault) => this.describe(fault));
  }

  remove(id: number): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((fault) => fault.id !== id);
    return this.faults.length < before;
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault of this phase to apply to this request, if any (counts it as used). */
  match(method: string, path: string, phase: FaultPhase): Fault | undefined {
    if (this.faults.length === 0) return undefined;
    for (const fault of this.faults) {
      if (fault.phase !== phase) continue;
      if (fault.method !== '*' && fault.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!fault.matcher.test(path)) continue;
      if (fault.count !== null && fault.hits >= fault.count) continue;
      if (fault.probability < 1 && Math.random() >= fault.probability) continue;
      fault.hits += 1;
      return this.describe(fault);
    }
    return undefined;
  }

  private describe(fault: Fault & { matcher: RegExp }): Fault {
    const { matcher: _matcher, ...rest } = fault;
    return rest;
  }
}
