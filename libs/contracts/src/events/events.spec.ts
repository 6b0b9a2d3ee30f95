import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import {
  BackfillProgressReportedV1,
  ConnectionAuthFailedV1,
  ConnectionConnectedV1,
  ConnectionDisconnectedV1,
  ConnectionPauseChangedV1,
  ConnectionStatusChangedV1,
  DefectCommentAddedV1,
  DefectCommentDeletedV1,
  DefectCommentEditedV1,
  DefectPriorityChangedV1,
  DefectPushedV1,
  DefectPushFailedV1,
  DefectPushFinishedV1,
  DefectPushStartedV1,
  DefectStatusChangedV1,
  DefectUpdatedV1,
  DeliveriesRefusedV1,
  DeliveriesSeenV1,
  MAX_UPSERTED_BATCH_ITEMS,
  ReconciliationReportedV1,
  RequirementDeprecatedV1,
  RequirementDetachedV1,
  RequirementUpsertedBatchV1,
  RequirementUpsertedV1,
  ResyncRequestedV1,
  WebhookVerifierV1,
} from '.';
import * as fixtures from './fixtures';

const cases: Array<[string, new () => object, object]> = [
  ['integration.connection.connected', ConnectionConnectedV1, fixtures.connectionConnectedFixture],
  ['integration.connection.disconnected', ConnectionDisconnectedV1, fixtures.connectionDisconnectedFixture],
  ['integration.connection.resync_requested', ResyncRequestedV1, fixtures.resyncRequestedFixture],
  ['integration.connection.pause_changed', ConnectionPauseChangedV1, fixtures.connectionPauseChangedFixture],
  ['integration.connection.auth_failed', ConnectionAuthFailedV1, fixtures.connectionAuthFailedFixture],
  ['testkase.connection.status_changed', ConnectionStatusChangedV1, fixtures.connectionStatusChangedFixture],
  ['testkase.requirement.upserted', RequirementUpsertedV1, fixtures.requirementUpsertedFixture],
  [
    'testkase.requirement.upserted (override dropped)',
    RequirementUpsertedV1,
    fixtures.requirementOverrideDroppedFixture,
  ],
  [
    'testkase.requirement.upserted (re-attached)',
    RequirementUpsertedV1,
    fixtures.requirementReattachedFixture,
  ],
  [
    'testkase.requirement.upserted_batch',
    RequirementUpsertedBatchV1,
    fixtures.requirementUpsertedBatchFixture,
  ],
  ['testkase.requirement.deprecated', RequirementDeprecatedV1, fixtures.requirementDeprecatedFixture],
  ['testkase.requirement.deprecated (moved)', RequirementDeprecatedV1, fixtures.requirementMovedFixture],
  ['testkase.requirement.detached', RequirementDetachedV1, fixtures.requirementDetachedFixture],
  ['integration.requirement.backfill_progress', BackfillProgressReportedV1, fixtures.backfillProgressFixture],
  ['integration.requirement.reconciled', ReconciliationReportedV1, fixtures.reconciliationReportedFixture],
  ['integration.webhook.deliveries_seen', DeliveriesSeenV1, fixtures.deliveriesSeenFixture],
  ['integration.webhook.deliveries_refused', DeliveriesRefusedV1, fixtures.deliveriesRefusedFixture],
  ['WEBHOOK_VERIFIERS entry', WebhookVerifierV1, fixtures.webhookVerifierFixture],
  ['WEBHOOK_VERIFIERS entry (rotating)', WebhookVerifierV1, fixtures.webhookVerifierRotatingFixture],
  ['testkase.defect.pushed', DefectPushedV1, fixtures.defectPushedFixture],
  ['testkase.defect.push_failed', DefectPushFailedV1, fixtures.defectPushFailedFixture],
  ['testkase.defect.updated', DefectUpdatedV1, fixtures.defectUpdatedFixture],
  ['testkase.defect.status_changed', DefectStatusChangedV1, fixtures.defectStatusChangedFixture],
  ['testkase.defect.priority_changed', DefectPriorityChangedV1, fixtures.defectPriorityChangedFixture],
  ['testkase.defect.comment_added', DefectCommentAddedV1, fixtures.defectCommentAddedFixture],
  ['testkase.defect.comment_edited', DefectCommentEditedV1, fixtures.defectCommentEditedFixture],
  ['testkase.defect.comment_deleted', DefectCommentDeletedV1, fixtures.defectCommentDeletedFixture],
  ['integration.defect.push_started', DefectPushStartedV1, fixtures.defectPushStartedFixture],
  ['integration.defect.push_finished', DefectPushFinishedV1, fixtures.defectPushFinishedFixture],
];

describe('event contracts', () => {
  it.each(cases)('%s: the fixture validates', (_name, payloadClass, fixture) => {
    const errors = validateSync(plainToInstance(payloadClass, fixture), { forbidUnknownValues: true });
    expect(errors).toEqual([]);
  });

  it.each(cases)('%s: a payload with a wrong field type is rejected', (_name, payloadClass, fixture) => {
    const [firstKey] = Object.keys(fixture);
    const broken = { ...fixture, [firstKey!]: { not: 'valid' } };
    expect(validateSync(plainToInstance(payloadClass, broken)).length).toBeGreaterThan(0);
  });

  describe('testkase.requirement.upserted, optional additions', () => {
    const valid = (payload: object) =>
      validateSync(plainToInstance(RequirementUpsertedV1, payload), { forbidUnknownValues: true });

    it('still accepts a payload of an earlier version (no prioritySource, replaced or override)', () => {
      const { prioritySource: _source, ...requirement } = fixtures.requirementFixture;
      expect(valid({ ...fixtures.requirementUpsertedFixture, requirement })).toEqual([]);
    });

    it.each([
      ['prioritySource', { requirement: { ...fixtures.requirementFixture, prioritySource: 'jira' } }],
      ['replaced.priority', { replaced: { priority: 'P9' } }],
      ['replaced.status', { replaced: { status: 'Closed' } }],
      ['replaced.title', { replaced: { title: 7 } }],
      ['droppedPriorityOverride', { droppedPriorityOverride: 'urgent' }],
    ])('rejects a bad %s', (_field, change) => {
      expect(valid({ ...fixtures.requirementReattachedFixture, ...change }).length).toBeGreaterThan(0);
    });
  });

  describe('testkase.requirement.upserted_batch', () => {
    const valid = (payload: object) =>
      validateSync(plainToInstance(RequirementUpsertedBatchV1, payload), { forbidUnknownValues: true });
    const item = fixtures.requirementUpsertedFixture;

    it('takes up to MAX_UPSERTED_BATCH_ITEMS items, each an upserted event', () => {
      const items = Array.from({ length: MAX_UPSERTED_BATCH_ITEMS }, () => item);
      expect(valid({ ...fixtures.requirementUpsertedBatchFixture, items })).toEqual([]);
    });

    it.each([
      ['no items', []],
      ['too many items', Array.from({ length: MAX_UPSERTED_BATCH_ITEMS + 1 }, () => item)],
      ['an item that is not a valid upserted event', [item, { ...item, changedFields: ['colour'] }]],
    ])('rejects %s', (_case, items) => {
      expect(valid({ ...fixtures.requirementUpsertedBatchFixture, items }).length).toBeGreaterThan(0);
    });
  });

  describe('requirement deprecation reasons, optional additions', () => {
    const valid = (payload: object) =>
      validateSync(plainToInstance(RequirementDeprecatedV1, payload), { forbidUnknownValues: true });

    it('still accepts a payload of an earlier version (no deprecationReason, no movedTo)', () => {
      const {
        deprecationReason: _reason,
        movedTo: _movedTo,
        ...requirement
      } = fixtures.requirementMovedFixture.requirement;
      expect(valid({ ...fixtures.requirementMovedFixture, requirement })).toEqual([]);
    });

    it('accepts a moved issue whose new iid and link GitLab did not tell', () => {
      const requirement = { ...fixtures.requirementMovedFixture.requirement, movedTo: { issueId: 2051 } };
      expect(valid({ ...fixtures.requirementMovedFixture, requirement })).toEqual([]);
    });

    it.each([
      ['deprecationReason', { deprecationReason: 'archived' }],
      ['movedTo.issueId', { movedTo: { issueId: -1 } }],
      ['movedTo.webUrl', { movedTo: { issueId: 2051, webUrl: 'not a url' } }],
    ])('rejects a bad %s', (_field, change) => {
      const requirement = { ...fixtures.requirementMovedFixture.requirement, ...change };
      expect(valid({ ...fixtures.requirementMovedFixture, requirement }).length).toBeGreaterThan(0);
    });

    it('keeps reason to its two v1 values', () => {
      expect(valid({ ...fixtures.requirementMovedFixture, reason: 'moved' }).length).toBeGreaterThan(0);
    });
  });
});
