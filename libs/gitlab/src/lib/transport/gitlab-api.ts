import type { RequesterType } from '@gitbeaker/requester-utils';

/** Query values as gitbeaker serialises them (arrays become `key[]=v`; undefined is dropped). */
export type QueryValue = string | number | boolean | readonly (string | number)[] | undefined;
export type Query = Readonly<Record<string, QueryValue>>;
export type Body = Readonly<Record<string, unknown>>;

export interface ApiResponse<T> {
  readonly body: T;
  readonly headers: Readonly<Record<string, string>>;
  readonly status: number;
}

/**
 * Thin typed access to gitbeaker's requester (its auth header, query and JSON encoding), whose
 * request handler is ours. Bodies are trusted to be GitLab's documented REST entities.
 */
export class GitlabApi {
  constructor(private readonly requester: RequesterType) {}

  /** `signal` aborts the request (and its retries and rate-limit waits) when it fires. */
  async get<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<ApiResponse<T>> {
    return this.typed<T>(
      await this.requester.get(path, { searchParams: { ...query }, ...(signal ? { signal } : {}) }),
    );
  }

  async post<T>(path: string, body: Body = {}): Promise<ApiResponse<T>> {
    return this.typed<T>(await this.requester.post(path, { body: { ...body } }));
  }

  async put<T>(path: string, body: Body = {}): Promise<ApiResponse<T>> {
    return this.typed<T>(await this.requester.put(path, { body: { ...body } }));
  }

  async delete(path: string): Promise<void> {
    await this.requester.delete(path);
  }

  private typed<T>(response: {
    body: unknown;
    headers: Record<string, string>;
    status: number;
  }): ApiResponse<T> {
    return { body: response.body as T, headers: response.headers, status: response.status };
  }
}
