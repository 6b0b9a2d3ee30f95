import { MessagingTablesMigrationV2 } from '@testkase/platform';

import { SCHEMA } from '../schema';

/** The outbox's parking columns: a row its relay cannot publish is parked instead of blocking the rest. */
export class ParkOutboxRows1766000000000 extends MessagingTablesMigrationV2 {
  readonly name = 'ParkOutboxRows1766000000000';

  constructor() {
    super(SCHEMA);
  }
}
