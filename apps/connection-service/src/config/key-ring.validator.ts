import { registerDecorator, type ValidationArguments } from 'class-validator';

import { KeyRingError, parseKeyRing } from '../crypto/key-ring';

/** Validates a `keyId:base64key,…` ring; the message says what is wrong without echoing any key. */
export function IsKeyRing(): PropertyDecorator {
  return (target, propertyName) => {
    let problem = 'is not a valid key ring';
    registerDecorator({
      name: 'isKeyRing',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown) {
          try {
            parseKeyRing(typeof value === 'string' ? value : '');
            return true;
          } catch (error) {
            problem = error instanceof KeyRingError ? error.message : problem;
            return false;
          }
        },
        defaultMessage(_args: ValidationArguments) {
          return problem;
        },
      },
    });
  };
}
