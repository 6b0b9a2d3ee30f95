import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

interface CorrelationScope {
  correlationId: string;
}

const storage = new AsyncLocalStorage<CorrelationScope>();

/** The correlation id of the request or message being handled, if any. */
export const currentCorrelationId = (): string | undefined => storage.getStore()?.correlationId;

/** Runs `fn` with `correlationId` attached to every log line written inside it. */
export function withCorrelation<T>(correlationId: string | undefined, fn: () => T): T {
  return storage.run({ correlationId: correlationId || randomUUID() }, fn);
}

/** Binds the current async context to a correlation id (for hooks that cannot wrap a callback). */
export function enterCorrelation(correlationId: string | undefined): void {
  storage.enterWith({ correlationId: correlationId || randomUUID() });
}
