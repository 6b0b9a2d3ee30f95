export * from './config';
export * from './database';
export * from './errors';
export * from './health';
export * from './http';
export * from './messaging';
export * from './platform.module';
export * from './telemetry';
