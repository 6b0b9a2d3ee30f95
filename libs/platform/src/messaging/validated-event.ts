import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validate } from 'class-validator';

import { isCloudEvent, type CloudEvent } from '@testkase/contracts';
import { ValidationError } from '@testkase/util';

import type { InboundMessage } from './consumer-runner';

/** The CloudEvent in a message (its `data` not yet validated). */
export function cloudEventOf(message: InboundMessage): CloudEvent {
  const event = message.json();
  if (!isCloudEvent(event)) throw new ValidationError('message is not a CloudEvents 1.0 envelope');
  return event;
}

/** `data` as an instance of `type`, validated by its class-validator decorators. */
export async function validatedData<T extends object>(type: ClassConstructor<T>, data: unknown): Promise<T> {
  if (typeof data !== 'object' || data === null)
    throw new ValidationError(`${type.name}: data is not an object`);
  const instance = plainToInstance(type, data);
  const errors = await validate(instance, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const problems = errors.flatMap((error) =>
      Object.values(error.constraints ?? {}).map((text) => text || error.property),
    );
    throw new ValidationError(`${type.name} is invalid: ${problems.join('; ')}`, { problems });
  }
  return instance;
}
