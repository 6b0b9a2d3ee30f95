/**
 * The JetStream streams of docs/ARCHITECTURE.md ("Messaging"). Plain data: the platform lib turns
 * these into stream configurations, adding the environment's NATS_PREFIX when one is set.
 */
export interface StreamDefinition {
  readonly name: string;
  /** Subjects without the environment prefix. */
  readonly subjects: readonly string[];
  readonly maxAgeMs: number;
  /** JetStream's Nats-Msg-Id dedupe window; the inboxes cover longer spans. */
  readonly duplicateWindowMs: number;
}

const DAY = 24 * 60 * 60 * 1000;

export const STREAMS = {
  GITLAB_EVENTS: {
    name: 'GITLAB_EVENTS',
    subjects: ['gitlab.events.>'],
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 10 * 60 * 1000,
  },
  INTEGRATION: {
    name: 'INTEGRATION',
    subjects: ['integration.>'],
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 10 * 60 * 1000,
  },
  TESTKASE_EVENTS: {
    name: 'TESTKASE_EVENTS',
    subjects: ['testkase.>'],
    maxAgeMs: 14 * DAY,
    duplicateWindowMs: 10 * 60 * 1000,
  },
  DEAD_LETTERS: {
    name: 'DEAD_LETTERS',
    subjects: ['deadletter.>'],
    maxAgeMs: 30 * DAY,
    duplicateWindowMs: 2 * 60 * 1000,
  },
} as const satisfies Record<string, StreamDefinition>;

export type StreamName = keyof typeof STREAMS;

/** The GitLab event kinds the gateway routes to their own subjects. */
export const GITLAB_EVENT_KINDS = ['issue', 'note', 'work_item'] as const;
export type GitlabEventKind = (typeof GITLAB_EVENT_KINDS)[number];

/** `gitlab.events.<connectionId>.<issue|note|work_item>` */
export const gitlabEventSubject = (connectionId: string, kind: GitlabEventKind): string =>
  `gitlab.events.${connectionId}.${kind}`;

/** Wildcard for one kind of event of every connection, e.g. for a durable consumer's filter. */
export const gitlabEventsOfKind = (kind: GitlabEventKind): string => `gitlab.events.*.${kind}`;

/** Where a message that kept failing in `consumer` is parked, with its error. */
export const deadLetterSubject = (consumer: string): string => `deadletter.${consumer}`;

/** Core NATS request/reply subjects (outside every stream, so JetStream never answers them). */
export const RPC = {
  connectionCredentials: 'rpc.connection.credentials',
  /** The gateway's lookup on a cache miss: the verifier and, for signed hooks, the signing key. */
  webhookVerifier: 'rpc.connection.webhook_verifier',
} as const;

/** Key/value buckets. */
export const KV_BUCKETS = {
  /** connectionId → {@link WebhookVerifier}; written by connection-service, read by the gateway. */
  webhookVerifiers: 'WEBHOOK_VERIFIERS',
} as const;

/** NATS message headers this system sets besides Nats-Msg-Id and the W3C trace context. */
export const HEADERS = {
  eventType: 'ce-type',
  eventId: 'ce-id',
  correlationId: 'x-correlation-id',
  gitlabEvent: 'x-gitlab-event',
  gitlabEventUuid: 'x-gitlab-event-uuid',
  gitlabWebhookUuid: 'x-gitlab-webhook-uuid',
  gitlabInstance: 'x-gitlab-instance',
  idempotencyKey: 'idempotency-key',
  receivedAt: 'x-received-at',
  deadLetterError: 'x-dead-letter-error',
  deadLetterCode: 'x-dead-letter-code',
  deadLetterSubject: 'x-dead-letter-subject',
  deadLetterStream: 'x-dead-letter-stream',
  deadLetterSequence: 'x-dead-letter-sequence',
  deadLetterDeliveries: 'x-dead-letter-deliveries',
  deadLetterMsgId: 'x-dead-letter-msg-id',
  /** On a replayed dead letter: the original message id, which consumers keep as the inbox key. */
  replayedMsgId: 'x-replayed-msg-id',
  /** On a replayed dead letter: its sequence in DEAD_LETTERS. */
  replayedFrom: 'x-replayed-from',
} as const;
