import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';
import { CreateConnectionProjection1764921600000 } from './1764921600000-CreateConnectionProjection';
import { CreateDefects1764921600001 } from './1764921600001-CreateDefects';
import { ParkOutboxRows1766000000000 } from './1766000000000-ParkOutboxRows';
import { CreateGitlabRateLimits1766100000000 } from './1766100000000-CreateGitlabRateLimits';
import { AddConnectionPause1766200000000 } from './1766200000000-AddConnectionPause';
import { KeepOutboxTraceContext1766400000000 } from './1766400000000-KeepOutboxTraceContext';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [
  CreateMessagingTables1764057600000,
  CreateConnectionProjection1764921600000,
  CreateDefects1764921600001,
  ParkOutboxRows1766000000000,
  CreateGitlabRateLimits1766100000000,
  AddConnectionPause1766200000000,
  KeepOutboxTraceContext1766400000000,
];
