export * from './bootstrap';
export * from './core-api.guard';
export * from './openapi';
