/** The Postgres schema defect-sync owns. No other service reads it. */
export const SCHEMA = 'defect_sync';
