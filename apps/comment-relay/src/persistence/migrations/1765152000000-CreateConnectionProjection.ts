import { ConnectionProjectionMigrationV1 } from '@testkase/consumer-kit';

import { SCHEMA } from '../schema';

/** The consumer kit's projection of connections (from `integration.connection.*`). */
export class CreateConnectionProjection1765152000000 extends ConnectionProjectionMigrationV1 {
  readonly name = 'CreateConnectionProjection1765152000000';

  constructor() {
    super(SCHEMA);
  }
}
