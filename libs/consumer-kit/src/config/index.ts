export * from './gitlab-consumer.config';
