import type { GitlabConsumerConfig } from './config/gitlab-consumer.config';

/** What a consumer tells the kit about itself (ConsumerKitModule.forRoot). */
export interface ConsumerKitOptions {
  /** e.g. `defect-sync`: names its durable consumers (`<service>-connections`) and its events' source. */
  readonly service: string;
  /** The app's Postgres schema, which holds its `connections` table, inbox and outbox. */
  readonly schema: string;
  readonly config: GitlabConsumerConfig;
  /**
   * Advisory-lock namespaces (the first key of two-int locks; locks are database-wide, so every
   * service has its own): the connection gate, and per-connection jobs.
   */
  readonly locks: { readonly gate: number; readonly job: number };
}

/** Injection token of the {@link ConsumerKitOptions}. */
export const CONSUMER_KIT_OPTIONS = Symbol('CONSUMER_KIT_OPTIONS');
