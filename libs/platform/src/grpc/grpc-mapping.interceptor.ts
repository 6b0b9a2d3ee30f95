import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';

import { ProtoMapper } from './proto-mapper';

const PATTERN_METADATA = 'microservices:pattern'; // @nestjs/microservices, set by @GrpcMethod

/**
 * Puts a controller's gRPC handlers between the proto messages and the API's values (ProtoMapper):
 * the request is converted before the validation pipe sees it (interceptors run before pipes), the
 * answer after the handler. Use as `@UseInterceptors(new GrpcMappingInterceptor(GRPC_SERVICES.x))`.
 */
@Injectable()
export class GrpcMappingInterceptor implements NestInterceptor {
  private readonly mapper: ProtoMapper;

  constructor(service: { package: string; protoPath: string }) {
    this.mapper = new ProtoMapper(service.package, service.protoPath);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const patterns = Reflect.getMetadata(PATTERN_METADATA, context.getHandler()) as
      Array<{ service: string; rpc: string }> | undefined;
    const pattern = patterns?.[0];
    if (!pattern) return next.handle();
    const { request, response } = this.mapper.method(pattern.service, pattern.rpc);
    const data = context.switchToRpc().getData<Record<string, unknown>>();
    if (data && typeof data === 'object') this.mapper.requestToApi(request, data);
    return next
      .handle()
      .pipe(map((answer) => this.mapper.toProto(response, answer as Record<string, unknown>)));
  }
}
