export * from './correlation';
export * from './logger';
export * from './metrics';
export * from './nest-logger';
export * from './redaction';
export * from './tracing';
export * from './pool-metrics';
export * from './gitlab-metrics';
