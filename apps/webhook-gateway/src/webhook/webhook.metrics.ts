import type { Counter, Gauge, Histogram } from 'prom-client';

import type { MetricsRegistry } from '@testkase/platform';

/**
 * What became of a delivery: `published` (JetStream acknowledged), `duplicate` (acknowledged as a
 * resend of a stored message), `spooled` (written to Postgres because JetStream could not take it),
 * `parked` (spooled but too large for NATS), `ignored` (an event type the system does not use),
 * `unauthorized`, `rejected` (bad body, content type or size), `unavailable` (503), `throttled`
 * (503: its connection has too many bytes in flight), `overloaded` (503: the gateway has),
 * `over_quota` (503: too large for NATS, and the parked deliveries' quota is used up) and
 * `spool_full` (503: JetStream could not take it, and its connection's pending spool quota is used up).
 */
export type DeliveryOutcome =
  | 'published'
  | 'duplicate'
  | 'spooled'
  | 'parked'
  | 'ignored'
  | 'unauthorized'
  | 'rejected'
  | 'unavailable'
  | 'throttled'
  | 'overloaded'
  | 'over_quota'
  | 'spool_full';

export class GatewayMetrics {
  readonly deliveries: Counter<'event' | 'outcome'>;
  readonly ackLatency: Histogram;
  readonly inflightBytes: Gauge;

  constructor(metrics: MetricsRegistry) {
    this.deliveries = metrics.counter(
      'gateway_deliveries_total',
      'GitLab webhook deliveries by event type (X-Gitlab-Event) and outcome',
      ['event', 'outcome'],
    );
    this.ackLatency = metrics.histogram(
      'gateway_publish_ack_seconds',
      'From publishing a delivery to JetStream to its ack',
      [],
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    );
    this.inflightBytes = metrics.gauge(
      'gateway_inflight_bytes',
      'Bytes of webhook bodies being received, published or spooled (all connections)',
      [],
      // Read at each scrape instead of set twice per request.
      (gauge) => gauge.set(this.inflightReading()),
    );
  }

  private inflightReading: () => number = () => 0;

  /** Where `gateway_inflight_bytes` is read from (the route's InflightBudget). */
  readInflightBytes(reading: () => number): void {
    this.inflightReading = reading;
  }

  count(event: string, outcome: DeliveryOutcome): void {
    this.deliveries.inc({ event, outcome });
  }
}
