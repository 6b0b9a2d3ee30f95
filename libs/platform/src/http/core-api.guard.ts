import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { AppError, constantTimeEqual } from '@testkase/util';

export const CORE_API_TOKEN = Symbol('CORE_API_TOKEN');

/** TestKase core authenticates with `Authorization: Bearer $CORE_API_TOKEN`. */
@Injectable()
export class CoreApiGuard implements CanActivate {
  constructor(@Inject(CORE_API_TOKEN) private readonly token: string) {}

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const presented = /^Bearer (.+)$/i.exec(header)?.[1] ?? '';
    if (!this.token || !constantTimeEqual(presented, this.token)) {
      throw new AppError('UNAUTHENTICATED', 'A valid core API token is required (Authorization: Bearer …)');
    }
    return true;
  }
}
