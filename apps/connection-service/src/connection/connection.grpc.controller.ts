import { Controller, UseGuards, UseInterceptors } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';

import { GRPC_SERVICES } from '@testkase/contracts';
import { GrpcCoreApiGuard, GrpcMappingInterceptor } from '@testkase/platform';

import { ConnectionService } from './connection.service';
import type { ConnectionView, ConnectResponseView } from './dto/connection.response.dto';
import { GrpcConnectRequestDto, GrpcProjectRefDto, GrpcRotateTokenRequestDto } from './dto/grpc.request.dto';

/**
 * `testkase.gitlab.connection.v1.ConnectionService` (libs/contracts/proto/connection.proto): the
 * HTTP API's operations over gRPC, with the same validation, use cases and error codes. Each RPC
 * answers its own response message around the HTTP body; GrpcMappingInterceptor maps enums and times.
 */
@ApiExcludeController()
@UseGuards(GrpcCoreApiGuard)
@UseInterceptors(new GrpcMappingInterceptor(GRPC_SERVICES.connection))
@Controller()
export class ConnectionGrpcController {
  constructor(private readonly connections: ConnectionService) {}

  @GrpcMethod('ConnectionService', 'Connect')
  async connect(@Payload() request: GrpcConnectRequestDto): Promise<{ connection: ConnectResponseView }> {
    const { projectId, ...body } = request;
    return { connection: await this.connections.connect(projectId, body) };
  }

  @GrpcMethod('ConnectionService', 'GetConnection')
  async get(@Payload() request: GrpcProjectRefDto): Promise<{ connection: ConnectionView }> {
    return { connection: await this.connections.get(request.projectId) };
  }

  @GrpcMethod('ConnectionService', 'Disconnect')
  async disconnect(@Payload() request: GrpcProjectRefDto): Promise<{ connection: ConnectionView }> {
    return { connection: await this.connections.disconnect(request.projectId) };
  }

  @GrpcMethod('ConnectionService', 'RotateToken')
  async rotateToken(@Payload() request: GrpcRotateTokenRequestDto): Promise<{ connection: ConnectionView }> {
    return { connection: await this.connections.rotateToken(request.projectId, request.token) };
  }

  @GrpcMethod('ConnectionService', 'Resync')
  async resync(@Payload() request: GrpcProjectRefDto): Promise<{ accepted: boolean }> {
    await this.connections.resync(request.projectId);
    return { accepted: true };
  }
}
