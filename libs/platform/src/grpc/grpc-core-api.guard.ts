import type { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';

import { AppError } from '@testkase/util';

import { CORE_API_TOKEN, presentsCoreToken } from '../http/core-api.guard';
import { isUndecodableRequest } from './undecodable-request';

/**
 * gRPC calls from TestKase core carry `authorization: Bearer $CORE_API_TOKEN` in their metadata (any
 * token of the list). A request whose bytes could not be decoded (undecodable-request.ts) is refused
 * after the token check, as VALIDATION_FAILED.
 */
@Injectable()
export class GrpcCoreApiGuard implements CanActivate {
  constructor(@Inject(CORE_API_TOKEN) private readonly tokens: readonly string[]) {}

  canActivate(context: ExecutionContext): boolean {
    const metadata = context.switchToRpc().getContext<Metadata>();
    const header = String(metadata?.get?.('authorization')?.[0] ?? '');
    if (!presentsCoreToken(header, this.tokens)) {
      throw new AppError(
        'UNAUTHENTICATED',
        'A valid core API token is required (metadata authorization: Bearer …)',
      );
    }
    if (isUndecodableRequest(context.switchToRpc().getData())) {
      throw new AppError('VALIDATION_FAILED', 'The request is not a protobuf message of this method');
    }
    return true;
  }
}
