export * from './grpc-core-api.guard';
export * from './grpc-health';
export * from './grpc-mapping.interceptor';
export * from './grpc-status';
export * from './undecodable-request';
export * from './proto-mapper';
