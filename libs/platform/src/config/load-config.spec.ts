import { IsBoolean, IsInt, IsString, Min } from 'class-validator';

import { ServiceConfig } from './base.config';
import { ToBoolean, ToDurationMs, ToInteger, ToList } from './config-decorators';
import { ConfigError, loadConfig } from './load-config';

class ExampleConfig extends ServiceConfig {
  @IsString()
  CORE_API_TOKEN: string = '';

  @ToBoolean()
  @IsBoolean()
  FEATURE: boolean = false;

  @Min(1000)
  @IsInt()
  @ToDurationMs()
  INTERVAL: number = 300_000;

  @ToList()
  @IsString({ each: true })
  HOSTS: string[] = [];

  @ToInteger()
  @IsInt()
  COUNT: number = 3;
}

describe('loadConfig', () => {
  it('applies defaults for unset and empty variables', () => {
    const config = loadConfig(ExampleConfig, { FEATURE: '', CORE_API_TOKEN: 'x' });
    expect(config).toMatchObject({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/testkase_gitlab',
      NATS_URL: 'nats://127.0.0.1:4222',
      PORT: 3000,
      FEATURE: false,
      INTERVAL: 300_000,
      HOSTS: [],
    });
  });

  it('converts typed values', () => {
    const config = loadConfig(ExampleConfig, {
      PORT: '3001',
      FEATURE: 'true',
      INTERVAL: '5m',
      HOSTS: 'a.example, b.example',
      COUNT: '7',
    });
    expect(config).toMatchObject({
      PORT: 3001,
      FEATURE: true,
      INTERVAL: 300_000,
      HOSTS: ['a.example', 'b.example'],
      COUNT: 7,
    });
  });

  it('names every bad variable in one error', () => {
    const env = {
      PORT: 'eighty',
      DATABASE_URL: 'mysql://nope',
      NATS_URL: 'http://x',
      FEATURE: 'perhaps',
      INTERVAL: '10',
      LOG_LEVEL: 'loud',
      NATS_PREFIX: 'has space',
    };
    let caught: unknown;
    try {
      loadConfig(ExampleConfig, env, 'example');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    for (const variable of [
      'PORT',
      'DATABASE_URL',
      'NATS_URL',
      'FEATURE',
      'INTERVAL',
      'LOG_LEVEL',
      'NATS_PREFIX',
    ]) {
      expect(message).toContain(`${variable}:`);
    }
    expect(message).toContain('PORT: must be an integer number');
    expect(message).toMatch(/^example: invalid configuration \(7 bad variables\)/);
  });

  it('returns a frozen object', () => {
    const config = loadConfig(ExampleConfig, {});
    expect(Object.isFrozen(config)).toBe(true);
  });
});
