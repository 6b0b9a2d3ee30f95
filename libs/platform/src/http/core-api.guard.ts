import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { AppError, constantTimeEqual } from '@testkase/util';

/** Injection token of the accepted core API tokens (`readonly string[]`, CORE_API_TOKEN). */
export const CORE_API_TOKEN = Symbol('CORE_API_TOKEN');

/**
 * Whether an `authorization` value is `Bearer <one of tokens>`. Compares with every token in
 * constant time (no early exit), so the timing tells neither a token nor which one matched.
 */
export function presentsCoreToken(authorization: string, tokens: readonly string[]): boolean {
  const presented = /^Bearer (.+)$/i.exec(authorization)?.[1] ?? '';
  let accepted = false;
  for (const token of tokens) if (token && constantTimeEqual(presented, token)) accepted = true;
  return accepted && presented !== '';
}

/** TestKase core authenticates with `Authorization: Bearer $CORE_API_TOKEN` (any token of the list). */
@Injectable()
export class CoreApiGuard implements CanActivate {
  constructor(@Inject(CORE_API_TOKEN) private readonly tokens: readonly string[]) {}

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    if (!presentsCoreToken(header, this.tokens)) {
      throw new AppError('UNAUTHENTICATED', 'A valid core API token is required (Authorization: Bearer …)');
    }
    return true;
  }
}
