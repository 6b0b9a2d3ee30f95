export * from './error-status';
export * from './http-error.filter';
export * from './validation.pipe';
