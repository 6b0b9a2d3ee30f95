import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';
import { CreateConnections1764230400000 } from './1764230400000-CreateConnections';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [CreateMessagingTables1764057600000, CreateConnections1764230400000];
