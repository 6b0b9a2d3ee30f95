/** The Postgres schema comment-relay owns. No other service reads it. */
export const SCHEMA = 'comment_relay';
