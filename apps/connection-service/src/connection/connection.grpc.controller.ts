import { Controller, UseGuards } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';

import { GrpcCoreApiGuard } from '@testkase/platform';

import { ConnectionService } from './connection.service';
import type { ConnectionView, ConnectResponseView } from './dto/connection.response.dto';
import { GrpcConnectRequestDto, GrpcProjectRefDto, GrpcRotateTokenRequestDto } from './dto/grpc.request.dto';

/**
 * `testkase.gitlab.connection.v1.ConnectionService` (libs/contracts/proto/connection.proto): the
 * HTTP API's operations over gRPC, with the same validation, use cases and error codes.
 */
@ApiExcludeController()
@UseGuards(GrpcCoreApiGuard)
@Controller()
export class ConnectionGrpcController {
  constructor(private readonly connections: ConnectionService) {}

  @GrpcMethod('ConnectionService', 'Connect')
  connect(@Payload() request: GrpcConnectRequestDto): Promise<ConnectResponseView> {
    const { projectId, ...body } = request;
    return this.connections.connect(projectId, body);
  }

  @GrpcMethod('ConnectionService', 'GetConnection')
  get(@Payload() request: GrpcProjectRefDto): Promise<ConnectionView> {
    return this.connections.get(request.projectId);
  }

  @GrpcMethod('ConnectionService', 'Disconnect')
  disconnect(@Payload() request: GrpcProjectRefDto): Promise<ConnectionView> {
    return this.connections.disconnect(request.projectId);
  }

  @GrpcMethod('ConnectionService', 'RotateToken')
  rotateToken(@Payload() request: GrpcRotateTokenRequestDto): Promise<ConnectionView> {
    return this.connections.rotateToken(request.projectId, request.token);
  }

  @GrpcMethod('ConnectionService', 'Resync')
  async resync(@Payload() request: GrpcProjectRefDto): Promise<{ accepted: boolean }> {
    await this.connections.resync(request.projectId);
    return { accepted: true };
  }
}
