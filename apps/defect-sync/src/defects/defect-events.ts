import {
  DefectPriorityChanged,
  DefectPushed,
  DefectPushFailed,
  DefectPushFinished,
  DefectPushStarted,
  DefectStatusChanged,
  DefectUpdated,
  type DefectTextField,
  type EventDefinition,
  type GitlabActorV1,
} from '@testkase/contracts';
import { buildCloudEvent, type OutboxMessage } from '@testkase/platform';
import { renderGitlabMarkdown } from '@testkase/sync-rules';

import { toDefectV1, type DefectRecord } from './defect.record';
import type { TestkaseChanges } from './gitlab-merge';

export const EVENT_SOURCE = 'testkase-gitlab/defect-sync';

/** Descriptions (Markdown and HTML together, UTF-8) larger than this travel as `descriptionOmitted`. */
export const MAX_EVENT_DESCRIPTION_BYTES = 256 * 1024;

function message<T>(definition: EventDefinition<T>, data: T, subject: string): OutboxMessage {
  return { subject: definition.subject, event: buildCloudEvent(EVENT_SOURCE, definition, data, { subject }) };
}

const subjectOf = (record: DefectRecord): string => `${record.project_id}/${record.defect_id}`;

/** `testkase.defect.pushed` and `integration.defect.push_finished` (linked) for a created issue. */
export function pushedEvents(record: DefectRecord, created: boolean): OutboxMessage[] {
  return [
    message(DefectPushed, { defect: toDefectV1(record), created }, subjectOf(record)),
    message(
      DefectPushFinished,
      {
        connectionId: record.connection_id ?? '',
        projectId: record.project_id,
        defectId: record.defect_id,
        outcome: 'linked',
        instanceUrl: record.instance_url,
        gitlabProjectId: Number(record.gitlab_project_id),
        iid: record.iid,
        finishedAt: new Date().toISOString(),
      },
      subjectOf(record),
    ),
  ];
}

/**
 * A push that failed for good: `integration.defect.push_finished` (failed), and, when TestKase was
 * told `pending`, `testkase.defect.push_failed`.
 */
export function pushFailedEvents(record: DefectRecord, toldPending: boolean): OutboxMessage[] {
  const messages = [
    message(
      DefectPushFinished,
      {
        connectionId: record.connection_id ?? '',
        projectId: record.project_id,
        defectId: record.defect_id,
        outcome: 'failed',
        instanceUrl: record.instance_url,
        gitlabProjectId: Number(record.gitlab_project_id),
        iid: null,
        finishedAt: new Date().toISOString(),
      },
      subjectOf(record),
    ),
  ];
  const defect = toDefectV1(record);
  if (toldPending && defect.error) {
    messages.push(message(DefectPushFailed, { defect, error: defect.error }, subjectOf(record)));
  }
  return messages;
}

/** `integration.defect.push_started`, staged before the first request to GitLab. */
export const pushStartedEvent = (record: DefectRecord): OutboxMessage =>
  message(
    DefectPushStarted,
    {
      connectionId: record.connection_id ?? '',
      projectId: record.project_id,
      defectId: record.defect_id,
      startedAt: new Date().toISOString(),
    },
    subjectOf(record),
  );

/** What TestKase hears of a GitLab change: one event per kind of change. */
export function gitlabChangeEvents(
  record: DefectRecord,
  changes: TestkaseChanges,
  options: { actor: GitlabActorV1 | null; gitlabUpdatedAt: Date; projectWebUrl: string },
): OutboxMessage[] {
  const defect = toDefectV1(record);
  const subject = subjectOf(record);
  const gitlabUpdatedAt = options.gitlabUpdatedAt.toISOString();
  const messages: OutboxMessage[] = [];
  const changedFields: DefectTextField[] = [];
  if (changes.title) changedFields.push('title');
  if (changes.description) changedFields.push('description');
  if (changedFields.length > 0) {
    const html = renderGitlabMarkdown(record.description, { projectWebUrl: options.projectWebUrl });
    const omitted =
      Buffer.byteLength(record.description, 'utf8') + Buffer.byteLength(html, 'utf8') >
      MAX_EVENT_DESCRIPTION_BYTES;
    messages.push(
      message(
        DefectUpdated,
        {
          defect,
          changedFields,
          title: record.title,
          descriptionMarkdown: omitted ? '' : record.description,
          descriptionHtml: omitted ? '' : html,
          ...(omitted ? { descriptionOmitted: true } : {}),
          actor: options.actor,
          gitlabUpdatedAt,
        },
        subject,
      ),
    );
  }
  if (changes.status) {
    messages.push(
      message(
        DefectStatusChanged,
        {
          defect,
          previousStatus: changes.status.previous,
          status: changes.status.current,
          gitlabState: record.gl_state ?? 'opened',
          actor: options.actor,
          gitlabUpdatedAt,
        },
        subject,
      ),
    );
  }
  if (changes.priority) {
    messages.push(
      message(
        DefectPriorityChanged,
        {
          defect,
          previousPriority: changes.priority.previous,
          priority: changes.priority.current,
          labels: record.gl_labels ?? [],
          actor: options.actor,
          gitlabUpdatedAt,
        },
        subject,
      ),
    );
  }
  return messages;
}
