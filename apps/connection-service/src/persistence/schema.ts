/** The Postgres schema connection-service owns. No other service reads it. */
export const SCHEMA = 'connection';
