import { randomUUID } from 'node:crypto';

import { Metadata } from '@grpc/grpc-js';
import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { throwError, type Observable } from 'rxjs';

import { isAppError, type ErrorCode } from '@testkase/util';

import { grpcStatusOf } from '../grpc/grpc-status';
import { codeOfHttpStatus, httpStatusOf } from './error-status';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; errorId?: string };
}

/** Fastify's own errors (body too large, bad JSON, wrong content type) carry a statusCode. */
interface FrameworkError {
  statusCode: number;
  message: string;
  code?: string;
}

const isFrameworkError = (error: unknown): error is FrameworkError =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as FrameworkError).statusCode === 'number' &&
  typeof (error as FrameworkError).message === 'string';

/**
 * Turns every error into the body of docs/ARCHITECTURE.md: `{"error":{"code","message","details"?}}`.
 * Anything not raised on purpose becomes a 500 whose `errorId` is also in the log.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') return this.toGrpcError(exception);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = this.toResponse(exception);
    if (status === 429 && isAppError(exception) && exception.retryAfterMs) {
      void reply.header('retry-after', Math.ceil(exception.retryAfterMs / 1000));
    }
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  /** gRPC: the status of grpcStatusOf, GitLab-free details, and our code in the `error-code` trailer. */
  private toGrpcError(exception: unknown): Observable<never> {
    const { body } = this.toResponse(exception);
    const metadata = new Metadata();
    metadata.set('error-code', body.error.code);
    if (body.error.errorId) metadata.set('error-id', body.error.errorId);
    return throwError(() => ({
      code: grpcStatusOf(body.error.code),
      details: body.error.message,
      message: body.error.message,
      metadata,
    }));
  }

  toResponse(exception: unknown): { status: number; body: ErrorBody } {
    if (isAppError(exception)) {
      const status = httpStatusOf(exception.code);
      if (status >= 500) this.logger.warn({ err: exception, code: exception.code }, exception.message);
      return {
        status,
        body: {
          error: {
            code: exception.code,
            message: exception.message,
            ...(exception.details ? { details: exception.details } : {}),
          },
        },
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? (response as { message: unknown }).message
          : exception.message;
      if (status < 500) {
        return {
          status,
          body: {
            error: {
              code: codeOfHttpStatus(status),
              message: Array.isArray(message) ? message.join('; ') : String(message),
            },
          },
        };
      }
    } else if (isFrameworkError(exception) && exception.statusCode < 500) {
      return {
        status: exception.statusCode,
        body: { error: { code: codeOfHttpStatus(exception.statusCode), message: exception.message } },
      };
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId }, 'unhandled error');
    return {
      status: 500,
      body: { error: { code: 'INTERNAL', message: `Internal error; reference ${errorId}`, errorId } },
    };
  }
}
