import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';
import { CreateRequirements1764316800000 } from './1764316800000-CreateRequirements';
import { TrackDefectPushes1764921600002 } from './1764921600002-TrackDefectPushes';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [
  CreateMessagingTables1764057600000,
  CreateRequirements1764316800000,
  TrackDefectPushes1764921600002,
];
