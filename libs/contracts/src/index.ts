export * from './messaging';
export * from './events';
