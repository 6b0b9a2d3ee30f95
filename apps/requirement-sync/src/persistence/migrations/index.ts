import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';
import { CreateRequirements1764316800000 } from './1764316800000-CreateRequirements';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [CreateMessagingTables1764057600000, CreateRequirements1764316800000];
