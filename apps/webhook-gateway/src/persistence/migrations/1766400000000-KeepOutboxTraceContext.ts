import { MessagingTablesMigrationV3 } from '@testkase/platform';

import { SCHEMA } from '../schema';

/** The outbox keeps the trace context of the work that staged each event (one trace per webhook). */
export class KeepOutboxTraceContext1766400000000 extends MessagingTablesMigrationV3 {
  readonly name = 'KeepOutboxTraceContext1766400000000';

  constructor() {
    super(SCHEMA);
  }
}
