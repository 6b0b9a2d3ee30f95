export * from './harness';
export * from './gitlab-sim-client';
