import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';
import { CreateConnections1764230400000 } from './1764230400000-CreateConnections';
import { AddHookSigningToken1764576000000 } from './1764576000000-AddHookSigningToken';
import { AddCheckWarnings1765800000000 } from './1765800000000-AddCheckWarnings';
import { ParkOutboxRows1766000000000 } from './1766000000000-ParkOutboxRows';
import { AddHookSecretHealth1766100000000 } from './1766100000000-AddHookSecretHealth';
import { AddConnectionPause1766200000000 } from './1766200000000-AddConnectionPause';
import { KeepOutboxTraceContext1766400000000 } from './1766400000000-KeepOutboxTraceContext';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [
  CreateMessagingTables1764057600000,
  CreateConnections1764230400000,
  AddHookSigningToken1764576000000,
  AddCheckWarnings1765800000000,
  ParkOutboxRows1766000000000,
  AddHookSecretHealth1766100000000,
  AddConnectionPause1766200000000,
  KeepOutboxTraceContext1766400000000,
];
