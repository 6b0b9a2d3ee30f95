import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { AppError } from '@testkase/util';

import { presentsCoreToken } from '../http/core-api.guard';

/** Injection token of the accepted admin API tokens (`readonly string[]`, ADMIN_API_TOKEN). */
export const ADMIN_API_TOKEN = Symbol('ADMIN_API_TOKEN');

/**
 * Operators authenticate on `/admin/v1/...` with `Authorization: Bearer $ADMIN_API_TOKEN` (any token
 * of the list, compared in constant time like the core token). Without any admin token configured
 * the admin routes do not exist: 404, as for any unknown route (docs/ADMIN-API.md).
 */
@Injectable()
export class AdminApiGuard implements CanActivate {
  constructor(@Inject(ADMIN_API_TOKEN) private readonly tokens: readonly string[]) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (this.tokens.length === 0) {
      throw new AppError('NOT_FOUND', `Route ${request.method}:${request.url.split('?')[0]} not found`);
    }
    if (!presentsCoreToken(request.headers.authorization ?? '', this.tokens)) {
      throw new AppError('UNAUTHENTICATED', 'A valid admin API token is required (Authorization: Bearer …)');
    }
    return true;
  }
}
