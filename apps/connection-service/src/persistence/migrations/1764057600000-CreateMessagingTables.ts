import { MessagingTablesMigrationV1 } from '@testkase/platform';

import { SCHEMA } from '../schema';

/** The outbox and inbox every service keeps in its own schema. */
export class CreateMessagingTables1764057600000 extends MessagingTablesMigrationV1 {
  readonly name = 'CreateMessagingTables1764057600000';

  constructor() {
    super(SCHEMA);
  }
}
