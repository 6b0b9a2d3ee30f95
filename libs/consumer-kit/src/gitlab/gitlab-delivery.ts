import type { InboundMessage } from '@testkase/platform';
import { ValidationError } from '@testkase/util';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One GitLab webhook delivery as the gateway published it on `gitlab.events.<connectionId>.<kind>`. */
export interface GitlabDelivery {
  readonly connectionId: string;
  /** The message id (`<connectionId>:<kind>:<key>`, apps/webhook-gateway/README.md), the inbox key. */
  readonly eventId: string;
  /** The webhook body, parsed as JSON, not yet checked. */
  readonly body: unknown;
}

/**
 * The connection and id of a GitLab delivery, and its body.
 * @throws ValidationError when the subject names no connection or the body is not JSON (permanent)
 */
export function gitlabDeliveryOf(message: InboundMessage): GitlabDelivery {
  const connectionId = message.subject.split('.')[2] ?? '';
  if (!UUID.test(connectionId)) throw new ValidationError(`subject ${message.subject} names no connection`);
  return {
    connectionId,
    eventId: message.msgId ?? `${message.subject}#${message.streamSequence}`,
    body: message.json(),
  };
}
