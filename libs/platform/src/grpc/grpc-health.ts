import type { handleUnaryCall, Server } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';

import type { ReadinessCheck } from '../health/readiness';

type ServingStatus = 'SERVING' | 'NOT_SERVING';

/**
 * `grpc.health.v1.Health` of a gRPC server, tied to the app's readiness (the checks of
 * `/health/ready`, docs/ARCHITECTURE.md "HTTP and gRPC"): SERVING while every check passes,
 * NOT_SERVING before, while a dependency is down and from the moment shutdown starts. It answers for
 * the server as a whole (`""`) and for each of its services by full name. It is added to the gRPC
 * server directly, outside Nest's guards: probes (Kubernetes' gRPC probe) send no core token.
 * A Check evaluates the readiness now (concurrent Checks share one evaluation); Watch streams see
 * the changes of a periodic one (every `intervalMs`, 5 s).
 */
export class GrpcHealth {
  private readonly health: HealthImplementation;
  private readonly names: string[];
  private evaluation?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    services: readonly string[],
    private readonly checks: () => readonly ReadinessCheck[],
    private readonly options: { intervalMs?: number } = {},
  ) {
    this.names = ['', ...services];
    this.health = new HealthImplementation(Object.fromEntries(this.names.map((n) => [n, 'NOT_SERVING'])));
  }

  /** Adds the health service (and, with `reflection`, server reflection of `definition` too). */
  addToServer(server: Pick<Server, 'addService'>, reflection?: PackageDefinition): void {
    // Evaluate before answering a Check, so that a probe sees the readiness of now.
    const wrapped: Pick<Server, 'addService'> = {
      addService: (service, implementation) =>
        server.addService(service, {
          ...implementation,
          check: ((call, callback) => {
            void this.evaluate().finally(() =>
              (implementation['check'] as handleUnaryCall<unknown, unknown>)(call, callback),
            );
          }) as handleUnaryCall<unknown, unknown>,
        }),
    };
    this.health.addToServer(wrapped);
    if (reflection) {
      const health = loadSync(healthProtoPath, { keepCase: true });
      new ReflectionService({ ...reflection, ...health }).addToServer(server);
    }
  }

  /** Starts the periodic evaluation (for Watch streams). */
  start(): void {
    void this.evaluate();
    this.timer = setInterval(() => void this.evaluate(), this.options.intervalMs ?? 5_000);
    this.timer.unref();
  }

  /** NOT_SERVING for good (shutdown has started). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.set('NOT_SERVING');
  }

  private evaluate(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.evaluation) return this.evaluation;
    this.evaluation = Promise.all(
      this.checks().map((check) =>
        check.probe().then(
          (outcome) => outcome.up,
          () => false,
        ),
      ),
    )
      .then((ups) => {
        if (!this.stopped) this.set(ups.every(Boolean) ? 'SERVING' : 'NOT_SERVING');
      })
      .finally(() => {
        this.evaluation = undefined;
      });
    return this.evaluation;
  }

  private set(status: ServingStatus): void {
    for (const name of this.names) this.health.setStatus(name, status);
  }
}
