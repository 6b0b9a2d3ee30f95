/** The Postgres schema webhook-gateway owns. No other service reads it. */
export const SCHEMA = 'gateway';
