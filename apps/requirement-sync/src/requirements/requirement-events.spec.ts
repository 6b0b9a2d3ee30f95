import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import {
  MAX_UPSERTED_BATCH_BYTES,
  MAX_UPSERTED_BATCH_ITEMS,
  RequirementUpsertedBatchV1,
  RequirementUpsertedV1,
  type CloudEvent,
} from '@testkase/contracts';
import { stagedOutboxRow } from '@testkase/platform';

import { MAX_EVENT_DESCRIPTION_BYTES, requirementEvents } from './requirement-events';
import type { RequirementRecord } from './requirement.record';

const record = (overrides: Partial<RequirementRecord> = {}): RequirementRecord => ({
  id: '0b4f6a2e-8f4f-4f0c-9d64-6a3f0f2f9a11',
  project_id: 'tk-1',
  connection_id: '6f1c1a3e-0d7e-4c3b-9a57-1d2b3c4d5e6f',
  instance_url: 'https://gitlab.example.com',
  gitlab_project_id: '42',
  iid: 7,
  issue_id: '900',
  title: 'Checkout keeps the cart',
  description_markdown: '**cart**',
  description_html: '<p><strong>cart</strong></p>\n',
  labels: ['priority::high'],
  priority: 'P1',
  priority_source: 'gitlab',
  priority_labels: ['priority::high'],
  status: 'Active',
  deprecated_reason: null,
  confidential: false,
  web_url: 'https://gitlab.example.com/group/project/-/issues/7',
  gitlab_created_at: new Date('2024-01-01T00:00:00.000Z'),
  gitlab_updated_at: new Date('2024-02-01T00:00:00.000Z'),
  gitlab_updated_at_exact: true,
  sync_state: 'synced',
  source: 'rest',
  needs_refresh: false,
  version: 3,
  changed_fields: [],
  testkase_edits: [],
  write_effects: null,
  created_at: new Date('2024-01-01T00:00:01.000Z'),
  updated_at: new Date('2024-02-01T00:00:01.000Z'),
  ...overrides,
});

const subjects = (records: Parameters<typeof requirementEvents>[0]) =>
  requirementEvents(records).messages.map((message) => message.subject);

describe('requirementEvents', () => {
  it('publishes upserted for a created requirement, valid against the contract', () => {
    const { messages, counts } = requirementEvents([
      { record: record({ changed_fields: ['title'] }), created: true },
    ]);
    expect(messages.map((message) => message.subject)).toEqual(['testkase.requirement.upserted']);
    expect(counts).toEqual({ created: 1, updated: 0, deprecated: 0 });
    const data = (messages[0]!.event as CloudEvent<RequirementUpsertedV1>).data;
    expect(validateSync(plainToInstance(RequirementUpsertedV1, data))).toEqual([]);
    expect(data).toMatchObject({
      created: true,
      requirement: { external: { gitlabProjectId: 42, issueId: 900 } },
    });
  });

  it('publishes nothing for a requirement that only moved forward in time', () => {
    expect(subjects([{ record: record(), created: false }])).toEqual([]);
  });

  it('adds deprecated when the status became Deprecated, and detached when the sync state did', () => {
    expect(
      subjects([
        {
          record: record({ status: 'Deprecated', deprecated_reason: 'closed', changed_fields: ['status'] }),
          created: false,
        },
        { record: record({ sync_state: 'detached', changed_fields: ['syncState'] }), created: false },
      ]),
    ).toEqual([
      'testkase.requirement.upserted',
      'testkase.requirement.deprecated',
      'testkase.requirement.upserted',
      'testkase.requirement.detached',
    ]);
  });

  it('leaves a description too large for one message out of the event, and says so', () => {
    const huge = 'x'.repeat(MAX_EVENT_DESCRIPTION_BYTES);
    const { messages } = requirementEvents([
      {
        record: record({
          description_markdown: huge,
          description_html: `<p>${huge}</p>`,
          changed_fields: ['description'],
        }),
        created: false,
      },
    ]);
    const data = (messages[0]!.event as CloudEvent<RequirementUpsertedV1>).data;
    expect(data.requirement).toMatchObject({
      descriptionMarkdown: '',
      descriptionHtml: '',
      descriptionOmitted: true,
    });
    expect(JSON.stringify(messages[0]!.event).length).toBeLessThan(10_000);
    expect(validateSync(plainToInstance(RequirementUpsertedV1, data))).toEqual([]);
  });

  it('measures a description as the event carries it: escapes count (a message NATS would refuse)', () => {
    // 60 KiB of control characters: small as text, 360 KiB once JSON-encoded, twice that with the HTML.
    const controls = '\u0001'.repeat(60 * 1024);
    const { messages } = requirementEvents([
      {
        record: record({
          description_markdown: controls,
          description_html: `<p>${controls}</p>`,
          changed_fields: ['description'],
        }),
        created: false,
      },
    ]);
    const data = (messages[0]!.event as CloudEvent<RequirementUpsertedV1>).data;
    expect(data.requirement.descriptionOmitted).toBe(true);
    expect(() => stagedOutboxRow(messages[0]!)).not.toThrow();
  });

  it('keeps a description whose escapes still fit', () => {
    const quotes = '"'.repeat(50 * 1024);
    const { messages } = requirementEvents([
      {
        record: record({
          description_markdown: quotes,
          description_html: '',
          changed_fields: ['description'],
        }),
        created: false,
      },
    ]);
    const data = (messages[0]!.event as CloudEvent<RequirementUpsertedV1>).data;
    expect(data.requirement.descriptionMarkdown).toBe(quotes);
    expect(data.requirement.descriptionOmitted).toBeUndefined();
  });

  describe('what a write did besides its changed fields', () => {
    const upserted = (overrides: Partial<RequirementRecord>) => {
      const { messages } = requirementEvents([{ record: record(overrides), created: false }]);
      return (messages[0]!.event as CloudEvent<RequirementUpsertedV1>).data;
    };

    it('carries the TestKase values a re-attach replaced and a dropped override, valid against the contract', () => {
      const data = upserted({
        version: 4,
        changed_fields: ['title', 'priority'],
        write_effects: {
          version: 4,
          replaced: { title: 'Edited in TestKase', status: 'Deprecated' },
          droppedPriorityOverride: 'P0',
        },
      });
      expect(data).toMatchObject({
        replaced: { title: 'Edited in TestKase', status: 'Deprecated' },
        droppedPriorityOverride: 'P0',
        requirement: { prioritySource: 'gitlab' },
      });
      expect(validateSync(plainToInstance(RequirementUpsertedV1, data))).toEqual([]);
    });

    it("never repeats an earlier write's effects", () => {
      const data = upserted({
        version: 5,
        changed_fields: ['title'],
        write_effects: {
          version: 4,
          replaced: { title: 'Edited in TestKase' },
          droppedPriorityOverride: 'P0',
        },
      });
      expect(data).not.toHaveProperty('replaced');
      expect(data).not.toHaveProperty('droppedPriorityOverride');
    });

    it('leaves a replaced description too large for one message out, and says so', () => {
      const data = upserted({
        changed_fields: ['description', 'title'],
        write_effects: {
          version: 3,
          replaced: { description: 'y'.repeat(MAX_EVENT_DESCRIPTION_BYTES + 1), title: 'Mine' },
        },
      });
      expect(data.replaced).toEqual({ title: 'Mine', descriptionOmitted: true });
    });
  });

  describe('as upserted_batch messages (the backfill)', () => {
    const connectionId = '6f1c1a3e-0d7e-4c3b-9a57-1d2b3c4d5e6f';
    const created = (count: number, overrides: Partial<RequirementRecord> = {}) =>
      Array.from({ length: count }, (_, index) => ({
        record: record({
          id: `0b4f6a2e-8f4f-4f0c-9d64-${String(index).padStart(12, '0')}`,
          iid: index + 1,
          ...overrides,
        }),
        created: true,
      }));
    const batches = (outcomes: Parameters<typeof requirementEvents>[0]) =>
      requirementEvents(outcomes, { batchFor: connectionId }).messages;

    it('carries exactly the data each single upserted event would, in order, valid against the contract', () => {
      const outcomes = created(3);
      const [batch, ...rest] = batches(outcomes);
      expect(rest).toEqual([]);
      expect(batch!.subject).toBe('testkase.requirement.upserted_batch');
      const event = batch!.event as CloudEvent<RequirementUpsertedBatchV1>;
      expect(event).toMatchObject({ type: 'testkase.requirement.upserted_batch.v1', subject: connectionId });
      expect(validateSync(plainToInstance(RequirementUpsertedBatchV1, event.data))).toEqual([]);
      const singles = requirementEvents(outcomes).messages.map(
        (message) => (message.event as CloudEvent<RequirementUpsertedV1>).data,
      );
      expect(event.data).toEqual({ connectionId, items: singles });
    });

    it('keeps deprecated and detached single, after the batch', () => {
      expect(
        batches([
          ...created(2),
          {
            record: record({ status: 'Deprecated', deprecated_reason: 'closed', changed_fields: ['status'] }),
            created: false,
          },
        ]).map((message) => message.subject),
      ).toEqual(['testkase.requirement.upserted_batch', 'testkase.requirement.deprecated']);
    });

    it('splits by count', () => {
      const messages = batches(created(2 * MAX_UPSERTED_BATCH_ITEMS + 1));
      expect(
        messages.map(
          (message) => (message.event as CloudEvent<RequirementUpsertedBatchV1>).data.items.length,
        ),
      ).toEqual([MAX_UPSERTED_BATCH_ITEMS, MAX_UPSERTED_BATCH_ITEMS, 1]);
    });

    it('splits by JSON bytes, escapes included, and every batch can be staged', () => {
      // 40 KiB of control characters: 240 KiB JSON-encoded per item, so two fit in 512 KiB, not three.
      const controls = '\u0001'.repeat(20 * 1024);
      const messages = batches(
        created(5, { description_markdown: controls, description_html: `<p>${controls}</p>` }),
      );
      const sizes = messages.map(
        (message) => (message.event as CloudEvent<RequirementUpsertedBatchV1>).data.items.length,
      );
      expect(sizes).toEqual([2, 2, 1]);
      for (const message of messages) {
        expect(Buffer.byteLength(JSON.stringify(message.event), 'utf8')).toBeLessThan(
          MAX_UPSERTED_BATCH_BYTES + 8_192,
        );
        expect(() => stagedOutboxRow(message)).not.toThrow();
      }
    });
  });
});
