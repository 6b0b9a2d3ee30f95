import 'reflect-metadata';

import { RealProjectLink } from './support/project-link';
import { requirementSyncScenarios } from './support/requirement-sync.scenarios';

jest.setTimeout(180_000);

/**
 * The Tests section end to end: gitlab-sim, the real webhook-gateway, connection-service
 * and requirement-sync, real Postgres and NATS. Projects are connected through connection-service's
 * API, which registers the webhook on the gateway; the test only talks HTTP, webhooks and NATS.
 */
describe('requirement-sync end to end', () => {
  requirementSyncScenarios({
    label: 'rs_e2e',
    apps: ['webhook-gateway', 'connection-service', 'requirement-sync', 'defect-sync'],
    link: async (stack) => new RealProjectLink(stack),
  });
});
