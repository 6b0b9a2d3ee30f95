/** CloudEvents 1.0 JSON envelope (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md). */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype: 'application/json';
  data: T;
}

export function isCloudEvent(value: unknown): value is CloudEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Partial<CloudEvent>;
  return (
    event.specversion === '1.0' &&
    typeof event.id === 'string' &&
    typeof event.source === 'string' &&
    typeof event.type === 'string' &&
    'data' in event
  );
}

/** An event definition: where it goes (subject without prefix) and its versioned CloudEvents type. */
export interface EventDefinition<T> {
  readonly subject: string;
  readonly type: string;
  /** Type witness only. */
  readonly _payload?: T;
}

export const defineEvent = <T>(subject: string, version = 1): EventDefinition<T> => ({
  subject,
  type: `${subject}.v${version}`,
});
