import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { statusMessageBody } from '../domain/gitlab-error';
import type { SimMetrics } from '../observability/sim-metrics';
import type { Fault, FaultInjector } from './fault-injector';

declare module 'fastify' {
  interface FastifyRequest {
    /** The `phase: "after"` fault chosen for this request when it arrived, if any. */
    afterFault: Fault | null;
  }
}

const DEFAULT_LATENCY_MS = 1_000;

/** Never settles: the answer of a `timeout`/`drop` after-fault is never written. */
const never = (): Promise<never> => new Promise<never>(() => undefined);

/**
 * Answers the requests the armed faults strike. `before` faults answer in the onRequest hook, so
 * the route never runs; `after` faults are chosen on arrival (so `count` and `probability` apply
 * per request) and spoil the route's real answer in the onSend hook, once the write has happened.
 */
export class FaultResponder {
  /** Sockets of requests that are never answered; close() destroys them. */
  private readonly held = new Set<Socket>();

  constructor(
    private readonly faults: FaultInjector,
    private readonly metrics: SimMetrics,
  ) {}

  /**
   * onRequest: applies a `before` fault, then remembers the `after` fault (if any) for onSend.
   * Returns the reply when it answered (an async hook must, to stop the request there).
   */
  async beforeRoute(
    request: FastifyRequest,
    reply: FastifyReply,
    path: string,
  ): Promise<FastifyReply | undefined> {
    const fault = this.faults.match(request.method, path, 'before');
    if (fault) {
      this.metrics.faultsInjected.inc({ kind: fault.kind });
      switch (fault.kind) {
        case 'latency':
          await sleep(fault.latencyMs ?? DEFAULT_LATENCY_MS);
          break;
        case 'status': {
          const status = fault.status ?? 500;
          reply.code(status);
          if (typeof fault.body === 'string') return reply.type('text/plain').send(fault.body);
          return reply.type('application/json').send(fault.body ?? statusMessageBody(status));
        }
        case 'rate_limit':
          reply.code(429).header('Retry-After', String(fault.retryAfter ?? 60));
          if (fault.body !== undefined && typeof fault.body !== 'string')
            return reply.type('application/json').send(fault.body);
          return reply.type('text/plain').send(typeof fault.body === 'string' ? fault.body : 'Retry later\n');
        case 'timeout':
          // Never answer: the client's own timeout is what ends it (or shutdown).
          reply.hijack();
          this.hold(request.raw.socket);
          return undefined;
        case 'drop':
          reply.hijack();
          request.raw.socket.destroy();
          return undefined;
      }
    }
    const after = this.faults.match(request.method, path, 'after');
    if (after) request.afterFault = after;
    return undefined;
  }

  /**
   * onSend: replaces the real answer of a request with an `after` fault. The route has run
   * (issue created, webhooks queued, rate limits counted); only what the client sees changes.
   */
  async afterRoute(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const fault = request.afterFault;
    if (!fault) return payload;
    request.afterFault = null;
    this.metrics.faultsInjected.inc({ kind: fault.kind });
    switch (fault.kind) {
      case 'latency':
        await sleep(fault.latencyMs ?? DEFAULT_LATENCY_MS);
        return payload;
      case 'status':
      case 'rate_limit': {
        // The control API refuses `rate_limit` after faults; treat a stray one like a 429.
        for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
        const status = fault.kind === 'status' ? (fault.status ?? 500) : 429;
        reply.code(status);
        if (typeof fault.body === 'string') {
          reply.type('text/plain');
          return fault.body;
        }
        reply.type('application/json; charset=utf-8');
        return JSON.stringify(fault.body ?? statusMessageBody(status));
      }
      case 'timeout':
        this.hold(request.raw.socket);
        return never();
      case 'drop':
        request.raw.socket.destroy();
        return never();
    }
  }

  /** Destroys the sockets of requests that were never answered (server shutdown). */
  releaseHeld(): void {
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  private hold(socket: Socket): void {
    this.held.add(socket);
    socket.once('close', () => this.held.delete(socket));
  }
}
