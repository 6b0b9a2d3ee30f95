import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

/** Raised when the environment does not describe a valid configuration. Names every bad variable. */
export class ConfigError extends Error {
  constructor(
    readonly problems: ReadonlyArray<{ variable: string; problem: string }>,
    appName: string,
  ) {
    super(
      `${appName}: invalid configuration (${problems.length} bad variable${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

type ConfigClass<T> = new () => T;

function flatten(errors: ValidationError[]): Array<{ variable: string; problem: string }> {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}).map((problem) => ({
      variable: error.property,
      problem: problem.startsWith(`${error.property} `) ? problem.slice(error.property.length + 1) : problem,
    })),
    ...flatten(error.children ?? []),
  ]);
}

/**
 * Builds the typed configuration of one app from an environment (by default `process.env`,
 * the only place in the code base that reads it). Defaults are the property initialisers of the
 * config class; empty strings count as unset. Throws {@link ConfigError} naming every bad variable.
 */
export function loadConfig<T extends object>(
  configClass: ConfigClass<T>,
  env: Record<string, string | undefined> = process.env,
  appName = configClass.name,
): T {
  const defaults = new configClass() as Record<string, unknown>;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = env[key];
    raw[key] = value === undefined || value.trim() === '' ? defaults[key] : value.trim();
  }
  const config = plainToInstance(configClass, raw, { enableImplicitConversion: false });
  const problems = flatten(validateSync(config, { forbidUnknownValues: false, stopAtFirstError: true }));
  if (problems.length > 0) throw new ConfigError(problems, appName);
  return Object.freeze(config);
}

/** For an app's entry point: load the config or print every bad variable and exit 1. */
export function loadConfigOrExit<T extends object>(configClass: ConfigClass<T>, appName: string): T {
  try {
    return loadConfig(configClass, process.env, appName);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `${JSON.stringify({ level: 'fatal', service: appName, msg: error.message, problems: error.problems })}\n`,
      );
      process.exit(1);
    }
    throw error;
  }
}
