import { ConnectionPauseMigration } from '@testkase/consumer-kit';

import { SCHEMA } from '../schema';

/** The pause columns of the connection projection (docs/ADMIN-API.md, "Pause and resume"). */
export class AddConnectionPause1766200000000 extends ConnectionPauseMigration {
  readonly name = 'AddConnectionPause1766200000000';

  constructor() {
    super(SCHEMA);
  }
}
