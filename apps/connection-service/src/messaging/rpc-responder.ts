import type { Subscription } from 'nats';

import type { Logger, NatsClient } from '@testkase/platform';
import { isAppError } from '@testkase/util';

export type RpcHandler = (request: unknown) => Promise<unknown>;

export interface RpcError {
  ok: false;
  error: { code: string; message: string };
}

/**
 * Answers core-NATS requests on `subject` (prefixed for the environment) in the queue group
 * `connection-service`, so replicas share the load. Bodies are JSON both ways; a failure is
 * answered as `{ ok: false, error }` and never includes the request.
 */
export async function serveRpc(
  nats: NatsClient,
  subject: string,
  handler: RpcHandler,
  logger: Logger,
): Promise<Subscription> {
  const nc = await nats.ready();
  return nc.subscribe(nats.naming.subject(subject), {
    queue: 'connection-service',
    callback: (error, message) => {
      if (error) {
        logger.warn({ err: error, subject }, 'rpc subscription error');
        return;
      }
      void (async () => {
        let reply: unknown;
        try {
          let request: unknown;
          try {
            request = message.json<unknown>();
          } catch {
            request = undefined;
          }
          reply = await handler(request);
        } catch (failure) {
          const known = isAppError(failure);
          if (!known || failure.code === 'INTERNAL')
            logger.error({ err: failure, subject }, 'rpc request failed');
          reply = {
            ok: false,
            error: {
              code: known ? failure.code : 'INTERNAL',
              message: known ? failure.message : 'internal error',
            },
          } satisfies RpcError;
        }
        if (message.reply) message.respond(JSON.stringify(reply));
      })();
    },
  });
}
