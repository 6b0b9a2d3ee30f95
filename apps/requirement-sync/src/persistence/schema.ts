/** The Postgres schema requirement-sync owns. No other service reads it. */
export const SCHEMA = 'requirement_sync';
