import 'reflect-metadata';

import { FakeProjectLink } from './support/project-link';
import { requirementSyncScenarios } from './support/requirement-sync.scenarios';

jest.setTimeout(180_000);

/**
 * requirement-sync alone, with the simulator, real Postgres and NATS; a fake connection-service
 * and a relay stand in for the other apps (requirement-sync.e2e-spec.ts runs the real ones).
 */
describe('requirement-sync (with stand-ins for connection-service and the gateway)', () => {
  requirementSyncScenarios({
    label: 'rs_int',
    apps: ['requirement-sync'],
    link: (stack) => FakeProjectLink.start(stack),
  });
});
