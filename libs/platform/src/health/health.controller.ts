import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheckError,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';

import { READINESS_CHECKS, type ReadinessCheck } from './readiness';

/**
 * `/health/live`: the process serves HTTP. `/health/ready`: every dependency answers now
 * (database `SELECT 1`, a NATS round trip…), each within a second; 503 otherwise, and from the
 * moment shutdown starts, so that traffic moves away before the process stops.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    try {
      const result = await this.health.check(
        this.checks.map((check) => async (): Promise<HealthIndicatorResult> => {
          const session = this.indicators.check(check.name);
          const outcome: Awaited<ReturnType<ReadinessCheck['probe']>> = await check
            .probe()
            .catch((error: Error) => ({ up: false, detail: error.message }));
          return outcome.up
            ? session.up(outcome.info ?? {})
            : session.down({ message: outcome.detail ?? 'down' });
        }),
      );
      void reply.status(200).send(result);
    } catch (error) {
      const response =
        error instanceof HealthCheckError
          ? error.causes
          : ((error as { getResponse?: () => unknown }).getResponse?.() ?? { status: 'error' });
      void reply.status(503).send(response);
    }
  }
}
