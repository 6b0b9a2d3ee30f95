export * from './grpc-core-api.guard';
export * from './grpc-status';
export * from './undecodable-request';
