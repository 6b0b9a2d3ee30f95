import { GitlabRateLimitsMigrationV1 } from '@testkase/consumer-kit';

import { SCHEMA } from '../schema';

/** The token budgets this service's replicas share (the consumer kit's PostgresLimiterStore). */
export class CreateGitlabRateLimits1766100000000 extends GitlabRateLimitsMigrationV1 {
  readonly name = 'CreateGitlabRateLimits1766100000000';

  constructor() {
    super(SCHEMA);
  }
}
