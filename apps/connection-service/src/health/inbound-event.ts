import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { isCloudEvent, type CloudEvent } from '@testkase/contracts';
import type { InboundMessage } from '@testkase/platform';
import { ValidationError } from '@testkase/util';

/** Parses and validates a CloudEvent; a malformed one is a permanent failure (dead-lettered). */
export function parseEvent<T extends object>(
  message: InboundMessage,
  payloadClass: new () => T,
): CloudEvent<T> {
  const event = message.json<unknown>();
  if (!isCloudEvent(event)) throw new ValidationError(`${message.subject}: not a CloudEvent`);
  const data = plainToInstance(payloadClass, event.data);
  const problems = validateSync(data, { forbidUnknownValues: false });
  if (problems.length > 0) {
    throw new ValidationError(`${message.subject}: invalid ${payloadClass.name}`, {
      fields: problems.map((problem) => problem.property),
    });
  }
  return { ...event, data } as CloudEvent<T>;
}
