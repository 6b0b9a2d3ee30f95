import 'reflect-metadata';

export * from './messaging';
export * from './events';
export * as contractFixtures from './events/fixtures';
export * from './grpc/proto-files';
export * from './grpc/proto-enums';
