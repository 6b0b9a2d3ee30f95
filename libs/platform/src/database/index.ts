export * from './data-source.factory';
export * from './messaging-tables.sql';
