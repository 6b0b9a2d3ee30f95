import { readFileSync } from 'node:fs';
import path from 'node:path';

import { WORKSPACE_ROOT } from './harness/app-process';

/** Variable names an app documents in its `.env.example` (`NAME=` lines, commented or not). */
export function envExampleVariables(app: string): string[] {
  return readFileSync(path.join(WORKSPACE_ROOT, 'apps', app, '.env.example'), 'utf8')
    .split('\n')
    .map((line) => /^\s*#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => Boolean(name))
    .sort();
}

/** The variables a config class reads: its properties, all initialised (to `undefined` if optional). */
export const configVariables = (configClass: new () => object): string[] =>
  Object.keys(new configClass()).sort();
