/** Requests kept (oldest dropped first): enough for a long test run, bounded for benchmarks. */
export const MAX_API_REQUEST_RECORDS = 100_000;

/** One REST API request as it arrived, and the status it was answered with. */
export interface ApiRequestRecord {
  id: number;
  /** High-resolution epoch milliseconds (real time) of the request's arrival. */
  at: number;
  method: string;
  /** The path as sent, without the query string (`/api/v4/projects/acme%2Fapp/issues`). */
  path: string;
  /** The query string without `?` and without `private_token` (`state=all&updated_after=…`), or ''. */
  query: string;
  /** The Fastify route pattern (`/api/v4/projects/:id/issues`); null when no route matched. */
  route: string | null;
  /** The status the client got; null while unanswered or when never answered (timeout, drop). */
  status: number | null;
  /** The user of a valid token, else null (anonymous or refused token). */
  username: string | null;
  /** The project the route names (`:id`), resolved to its numeric id; null when none or unknown. */
  projectId: number | null;
}

export interface ApiRequestQuery {
  /** Epoch ms: only requests that arrived at or after. */
  since?: number;
  /** Upper-case methods to keep (any when absent). */
  methods?: ReadonlySet<string>;
  projectId?: number;
  /** The newest N matching requests (still returned oldest first). */
  limit: number;
}

/**
 * A ring buffer of the REST requests the simulator received, so tests can count the writes a
 * client made (a retried POST that created a duplicate shows up twice). Records are created on
 * arrival and completed when the answer has been written.
 */
export class ApiRequestLog {
  private readonly records: Array<ApiRequestRecord | undefined>;
  /** Index of the next slot to write. */
  private head = 0;
  private size = 0;
  private nextId = 1;

  constructor(private readonly capacity = MAX_API_REQUEST_RECORDS) {
    this.records = new Array<ApiRequestRecord | undefined>(capacity);
  }

  add(record: Omit<ApiRequestRecord, 'id'>): ApiRequestRecord {
    const stored: ApiRequestRecord = { id: this.nextId++, ...record };
    this.records[this.head] = stored;
    this.head = (this.head + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    return stored;
  }

  /** Matching records, oldest first. */
  query(query: ApiRequestQuery): ApiRequestRecord[] {
    const matches: ApiRequestRecord[] = [];
    const first = (this.head - this.size + this.capacity) % this.capacity;
    for (let n = 0; n < this.size; n += 1) {
      const record = this.records[(first + n) % this.capacity];
      if (!record) continue;
      if (query.since !== undefined && record.at < query.since) continue;
      if (query.methods && !query.methods.has(record.method)) continue;
      if (query.projectId !== undefined && record.projectId !== query.projectId) continue;
      matches.push(record);
    }
    return matches.slice(Math.max(0, matches.length - query.limit));
  }

  clear(): void {
    this.records.fill(undefined);
    this.head = 0;
    this.size = 0;
  }

  get count(): number {
    return this.size;
  }
}
