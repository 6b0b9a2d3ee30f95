import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one simulator instance (its own registry, so several can run in one process). */
export class SimMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'gitlab_sim_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'gitlab_sim_webhook_deliveries_total',
    help: 'Webhook deliveries by outcome (success, failure, dropped, skipped_disabled)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryDuration = new Histogram({
    name: 'gitlab_sim_webhook_delivery_duration_seconds',
    help: 'Time from sending a webhook to the end of the receiver answer',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [this.registry],
  });

  readonly faultsInjected = new Counter({
    name: 'gitlab_sim_faults_injected_total',
    help: 'Requests answered by an injected fault, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gitlab_sim_' });
  }
}
