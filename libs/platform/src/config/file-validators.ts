import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

import { ValidateBy, type ValidationOptions } from 'class-validator';

/** Why `file` cannot be read as a PEM of `kind`, or undefined. Never quotes the file's content. */
export function pemFileProblem(file: unknown, kind: 'certificate' | 'private key'): string | undefined {
  if (typeof file !== 'string' || file === '') return 'must be a file path';
  let pem: Buffer;
  try {
    if (!statSync(file).isFile()) return `${file} is not a file`;
    pem = readFileSync(file);
  } catch (error) {
    return `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  try {
    if (kind === 'certificate') new X509Certificate(pem);
    else createPrivateKey(pem);
    return undefined;
  } catch {
    return `${file} is not a PEM ${kind}`;
  }
}

/** The property names a readable PEM certificate or private key file. */
export const IsPemFile = (
  kind: 'certificate' | 'private key',
  options?: ValidationOptions,
): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isPemFile',
      validator: {
        validate: (value: unknown) => pemFileProblem(value, kind) === undefined,
        defaultMessage: (args) => pemFileProblem(args?.value, kind) ?? `must be a PEM ${kind} file`,
      },
    },
    options,
  );
