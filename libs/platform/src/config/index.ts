export * from './base.config';
export * from './config-decorators';
export * from './load-config';
export * from './file-validators';
