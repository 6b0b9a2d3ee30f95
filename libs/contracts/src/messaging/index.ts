export * from './cloud-event';
export * from './streams';
