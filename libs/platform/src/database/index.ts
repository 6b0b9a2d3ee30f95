export * from './data-source.factory';
export * from './messaging-tables.sql';
export * from './advisory-lock-leader';
export * from './sql';
