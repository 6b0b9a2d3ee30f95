export * from './lib/app-error';
export * from './lib/async';
export * from './lib/secrets';
export * from './lib/semaphore';
export * from './lib/bounded-lru';
