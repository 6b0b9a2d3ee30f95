import { request, validateHeaderName, validateHeaderValue, type IncomingHttpHeaders } from 'node:http';

/** One answer of a running app, as bytes arrived: status, headers, body text and time taken. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  ms: number;
}

export interface RawRequest {
  method: string;
  /** Sent as given (already encoded): odd paths are part of what is tested. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer;
  /** An answer later than this is a hang (the property fails). */
  timeoutMs?: number;
}

/** Whether node:http can send this header at all (names and values with CR/LF cannot be). */
export function sendableHeader(name: string, value: string | string[]): boolean {
  try {
    validateHeaderName(name);
    for (const one of Array.isArray(value) ? value : [value]) validateHeaderValue(name, one);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends one request over a fresh connection with node:http (fetch refuses odd header values and
 * duplicated headers). Rejects when no complete answer arrives within `timeoutMs`.
 */
export function rawRequest(baseUrl: string, options: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers: Record<string, string | string[]> = { ...options.headers };
  if (options.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['content-length'] = String(options.body.length);
  }
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: Date.now() - started,
          });
        });
        res.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(
        new Error(`no answer to ${options.method} ${options.path.slice(0, 200)} within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

/** What a rejection must look like: `{"error":{"code":"UPPER_SNAKE","message":"…"}}` (docs/ARCHITECTURE.md). */
export function platformErrorProblem(answer: RawAnswer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    return `${answer.status} with a body that is not JSON: ${answer.text.slice(0, 200)}`;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (!error || typeof error.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(error.code)) {
    return `${answer.status} without an UPPER_SNAKE error.code: ${answer.text.slice(0, 200)}`;
  }
  if (typeof error.message !== 'string') return `${answer.status} without error.message`;
  return undefined;
}

/**
 * The invariant of every answer to hostile input: a 2xx, or a 4xx in the platform's error shape;
 * `allowed5xx` lists the error codes of 5xx answers that are documented outcomes (none by default).
 * Returns a description of the violation, or undefined.
 */
export function clearAnswerProblem(
  answer: RawAnswer,
  allowed5xx: readonly string[] = [],
): string | undefined {
  if (answer.status >= 200 && answer.status < 300) return undefined;
  if (answer.status >= 400 && answer.status < 500) return platformErrorProblem(answer);
  if (answer.status >= 500) {
    const problem = platformErrorProblem(answer);
    const code = problem ? undefined : (JSON.parse(answer.text) as { error: { code: string } }).error.code;
    if (code && allowed5xx.includes(code)) return undefined;
    return `a ${answer.status}: ${answer.text.slice(0, 300)}`;
  }
  return `an unexpected status ${answer.status}`;
}
