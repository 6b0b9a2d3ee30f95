import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';
import { CreateSpool1764230400000 } from './1764230400000-CreateSpool';
import { CreateVerifierSnapshot1764576000000 } from './1764576000000-CreateVerifierSnapshot';
import { ParkOutboxRows1766000000000 } from './1766000000000-ParkOutboxRows';
import { SpoolPendingUsage1766200000000 } from './1766200000000-SpoolPendingUsage';
import { KeepOutboxTraceContext1766400000000 } from './1766400000000-KeepOutboxTraceContext';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [
  CreateMessagingTables1764057600000,
  CreateSpool1764230400000,
  CreateVerifierSnapshot1764576000000,
  ParkOutboxRows1766000000000,
  SpoolPendingUsage1766200000000,
  KeepOutboxTraceContext1766400000000,
];
