export * from './app-process';
export * from './environment';
export * from './eventually';
export * from './nats-probe';
export * from './stack';
export * from './private-servers';
export * from './leftovers';
