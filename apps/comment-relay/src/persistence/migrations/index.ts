import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';
import { CreateConnectionProjection1765152000000 } from './1765152000000-CreateConnectionProjection';
import { CreateComments1765152000001 } from './1765152000001-CreateComments';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [
  CreateMessagingTables1764057600000,
  CreateConnectionProjection1765152000000,
  CreateComments1765152000001,
];
