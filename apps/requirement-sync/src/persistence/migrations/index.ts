import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [CreateMessagingTables1764057600000];
