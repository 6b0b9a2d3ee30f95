import type {
  DefectCommentAddedV1,
  DefectCommentDeletedV1,
  DefectCommentEditedV1,
} from './comment/comment.events';
import type {
  ConnectionAuthFailedV1,
  ConnectionConnectedV1,
  ConnectionDisconnectedV1,
  ConnectionPauseChangedV1,
  ConnectionStatusChangedV1,
  ResyncRequestedV1,
} from './connection/connection.events';
import type {
  DefectPriorityChangedV1,
  DefectPushedV1,
  DefectPushFailedV1,
  DefectPushFinishedV1,
  DefectPushStartedV1,
  DefectStatusChangedV1,
  DefectUpdatedV1,
  DefectV1,
} from './defect/defect.events';
import type {
  BackfillProgressReportedV1,
  ReconciliationReportedV1,
  RequirementDeprecatedV1,
  RequirementDetachedV1,
  RequirementUpsertedBatchV1,
  RequirementUpsertedV1,
  RequirementV1,
} from './requirement/requirement.events';
import type { DeliveriesRefusedV1, DeliveriesSeenV1, WebhookVerifierV1 } from './webhook/webhook.contracts';

/** Example payloads: documentation for consumers and the input of the contract spec. */
const connectionId = '0b6a3f5e-8a51-4e5b-9b0e-5f7e0d6f1c11';
const at = '2026-11-25T08:00:00.000Z';

export const connectionConnectedFixture: ConnectionConnectedV1 = {
  connectionId,
  projectId: 'demo',
  platform: 'gitlab',
  instanceUrl: 'https://gitlab.example.com',
  gitlabProjectId: 42,
  projectPath: 'demo/testkase-demo',
  projectWebUrl: 'https://gitlab.example.com/demo/testkase-demo',
  mode: 'webhook_managed',
  tokenUserId: 7,
  reconnect: false,
  connectedAt: at,
};

export const connectionDisconnectedFixture: ConnectionDisconnectedV1 = {
  connectionId,
  projectId: 'demo',
  instanceUrl: 'https://gitlab.example.com',
  gitlabProjectId: 42,
  disconnectedAt: at,
};

export const connectionPauseChangedFixture: ConnectionPauseChangedV1 = {
  connectionId: '7d5b3a52-3f0e-4a53-9d1e-2c4f1b8a9e01',
  projectId: 'demo',
  paused: true,
  changedAt: '2026-12-03T14:00:00.000Z',
};

export const resyncRequestedFixture: ResyncRequestedV1 = {
  connectionId,
  projectId: 'demo',
  scope: 'full',
  requestedAt: at,
};

export const connectionAuthFailedFixture: ConnectionAuthFailedV1 = {
  connectionId,
  service: 'requirement-sync',
  detail: '401 Unauthorized',
  occurredAt: at,
};

export const connectionStatusChangedFixture: ConnectionStatusChangedV1 = {
  connectionId,
  projectId: 'demo',
  status: 'active',
  previousStatus: null,
  reason: 'connected',
  tokenExpiresAt: '2027-01-31T00:00:00.000Z',
  hook: { hookId: 12, alertStatus: 'executable', disabledUntil: null },
  backfill: { state: 'running', imported: 1200, expected: 2500, startedAt: at, finishedAt: null },
  occurredAt: at,
};

export const requirementFixture: RequirementV1 = {
  id: '6f1c2a8e-9d43-4a7b-8a8d-2f3c4b5a6d7e',
  projectId: 'demo',
  connectionId,
  external: {
    platform: 'gitlab',
    instanceUrl: 'https://gitlab.example.com',
    gitlabProjectId: 42,
    iid: 7,
    issueId: 1007,
    webUrl: 'https://gitlab.example.com/demo/testkase-demo/-/issues/7',
  },
  title: 'Users can reset their password',
  descriptionHtml: '<p>As a user I want <strong>a reset link</strong>.</p>\n',
  descriptionMarkdown: 'As a user I want **a reset link**.',
  labels: ['priority::high', 'auth'],
  priority: 'P1',
  prioritySource: 'gitlab',
  status: 'Active',
  confidential: false,
  syncState: 'synced',
  gitlabCreatedAt: '2026-11-01T09:00:00.000Z',
  gitlabUpdatedAt: '2026-11-20T10:00:00.000Z',
  version: 3,
  createdAt: at,
  updatedAt: at,
};

export const requirementUpsertedFixture: RequirementUpsertedV1 = {
  requirement: requirementFixture,
  created: false,
  changedFields: ['title', 'labels', 'priority'],
};

/** Two requirements of one backfill page in one message; each item is one `upserted` event's data. */
export const requirementUpsertedBatchFixture: RequirementUpsertedBatchV1 = {
  connectionId,
  items: [
    { requirement: requirementFixture, created: true, changedFields: [] },
    {
      requirement: {
        ...requirementFixture,
        id: '9b2f4c1e-3d5a-4e6f-8a7b-0c1d2e3f4a5b',
        external: { ...requirementFixture.external, iid: 43, issueId: 1043 },
        title: 'Password reset by SMS',
      },
      created: true,
      changedFields: [],
    },
  ],
};

/** A TestKase priority override dropped by a change of the issue's priority labels on GitLab. */
export const requirementOverrideDroppedFixture: RequirementUpsertedV1 = {
  requirement: { ...requirementFixture, labels: ['priority::low', 'auth'], priority: 'P3', version: 5 },
  created: false,
  changedFields: ['labels', 'priority'],
  droppedPriorityOverride: 'P0',
};

/** A re-attached requirement: GitLab's values replaced the TestKase edits made while it was detached. */
export const requirementReattachedFixture: RequirementUpsertedV1 = {
  requirement: { ...requirementFixture, version: 6 },
  created: false,
  changedFields: ['title', 'priority'],
  replaced: { title: 'Password reset (edited in TestKase)', priority: 'P0' },
};

export const requirementDeprecatedFixture: RequirementDeprecatedV1 = {
  requirement: { ...requirementFixture, status: 'Deprecated', deprecationReason: 'closed' },
  reason: 'closed',
};

/** An issue moved to another project: the new issue's id, iid and link. */
export const requirementMovedFixture: RequirementDeprecatedV1 = {
  requirement: {
    ...requirementFixture,
    status: 'Deprecated',
    deprecationReason: 'moved',
    movedTo: {
      issueId: 2051,
      iid: 3,
      webUrl: 'https://gitlab.example.com/demo/testkase-archive/-/issues/3',
    },
    version: 4,
  },
  reason: 'deleted_or_moved',
};

export const requirementDetachedFixture: RequirementDetachedV1 = {
  requirement: { ...requirementFixture, syncState: 'detached' },
  connectionId,
};

export const backfillProgressFixture: BackfillProgressReportedV1 = {
  connectionId,
  projectId: 'demo',
  state: 'completed',
  imported: 2500,
  expected: 2500,
  startedAt: at,
  finishedAt: at,
};

export const reconciliationReportedFixture: ReconciliationReportedV1 = {
  connectionId,
  projectId: 'demo',
  kind: 'incremental',
  checked: 125,
  created: 2,
  updated: 5,
  deprecated: 1,
  startedAt: at,
  finishedAt: at,
};

export const webhookVerifierFixture: WebhookVerifierV1 = {
  connectionId,
  projectId: 'demo',
  state: 'active',
  secretSha256: 'a'.repeat(64),
  signed: false,
  updatedAt: at,
};

export const deliveriesSeenFixture: DeliveriesSeenV1 = { connectionId, lastDeliveryAt: at, count: 12 };

export const deliveriesRefusedFixture: DeliveriesRefusedV1 = {
  connectionId,
  firstRefusedAt: at,
  lastRefusedAt: at,
  count: 3,
};

export const webhookVerifierRotatingFixture: WebhookVerifierV1 = {
  ...webhookVerifierFixture,
  previousSecretSha256: 'b'.repeat(64),
  previousUntil: at,
};

export const defectFixture: DefectV1 = {
  projectId: 'demo',
  defectId: 'DEF-42',
  connectionId,
  issue: {
    platform: 'gitlab',
    instanceUrl: 'https://gitlab.example.com',
    gitlabProjectId: 42,
    iid: 31,
    issueId: 1031,
    webUrl: 'https://gitlab.example.com/demo/testkase-demo/-/issues/31',
  },
  title: 'Checkout fails with an expired card',
  priority: 'Critical',
  status: 'Open',
  syncStatus: 'synced',
  error: null,
  warnings: [],
  gitlab: {
    state: 'opened',
    labels: ['priority::high'],
    title: 'Checkout fails with an expired card',
    updatedAt: at,
  },
  version: 2,
  pushedAt: at,
  updatedAt: at,
};

export const defectPushedFixture: DefectPushedV1 = { defect: defectFixture, created: true };

export const defectPushFailedFixture: DefectPushFailedV1 = {
  defect: { ...defectFixture, issue: null, gitlab: null, syncStatus: 'failed', pushedAt: null },
  error: { code: 'GITLAB_REJECTED', message: 'Issues are turned off', at, retryAt: null },
};

export const defectUpdatedFixture: DefectUpdatedV1 = {
  defect: defectFixture,
  changedFields: ['title'],
  title: 'Checkout fails with an expired card',
  descriptionMarkdown: 'Steps: pay with **4000 0000 0000 0069**.',
  descriptionHtml: '<p>Steps: pay with <strong>4000 0000 0000 0069</strong>.</p>',
  actor: { id: 7, username: 'dev-alice', name: 'Alice' },
  gitlabUpdatedAt: at,
};

export const defectStatusChangedFixture: DefectStatusChangedV1 = {
  defect: { ...defectFixture, status: 'Closed' },
  previousStatus: 'Open',
  status: 'Closed',
  gitlabState: 'closed',
  actor: { id: 7, username: 'dev-alice', name: 'Alice' },
  gitlabUpdatedAt: at,
};

export const defectPriorityChangedFixture: DefectPriorityChangedV1 = {
  defect: { ...defectFixture, priority: 'Blocker' },
  previousPriority: 'Critical',
  priority: 'Blocker',
  labels: ['priority::critical'],
  actor: null,
  gitlabUpdatedAt: at,
};

export const defectPushStartedFixture: DefectPushStartedV1 = {
  connectionId,
  projectId: 'demo',
  defectId: 'DEF-42',
  startedAt: at,
};

export const defectPushFinishedFixture: DefectPushFinishedV1 = {
  connectionId,
  projectId: 'demo',
  defectId: 'DEF-42',
  outcome: 'linked',
  instanceUrl: 'https://gitlab.example.com',
  gitlabProjectId: 42,
  iid: 31,
  finishedAt: at,
};

const defectCommentFixture: DefectCommentAddedV1['comment'] = {
  projectId: 'demo',
  defectId: 'DEF-101',
  connectionId,
  noteId: 1_241,
  iid: 17,
  bodyMarkdown: 'Reproduced on **staging**.',
  bodyHtml: '<p>Reproduced on <strong>staging</strong>.</p>',
  internal: false,
  author: { id: 7, username: 'dev-alice', name: 'Alice' },
  url: 'https://gitlab.example.com/demo/testkase-demo/-/issues/17#note_1241',
  gitlabCreatedAt: at,
  gitlabUpdatedAt: at,
};

export const defectCommentAddedFixture: DefectCommentAddedV1 = { comment: defectCommentFixture };

export const defectCommentEditedFixture: DefectCommentEditedV1 = {
  comment: {
    ...defectCommentFixture,
    bodyMarkdown: 'Reproduced on staging and prod.',
    bodyHtml: '<p>Reproduced on staging and prod.</p>',
  },
};

export const defectCommentDeletedFixture: DefectCommentDeletedV1 = {
  projectId: 'demo',
  defectId: 'DEF-101',
  connectionId,
  noteId: 1_241,
  iid: 17,
  detectedAt: at,
};
