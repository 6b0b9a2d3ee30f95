export * from './harness';
export * from './gitlab-sim-client';
export * from './env-example';
export * from './core-grpc-client';
export * from './sim-project';
export * from './self-signed-cert';
export * from './otlp-collector';
export * from './openapi-breaking';
