export * from './gitlab-consumer.config';
export * from './lane-consumer.config';
