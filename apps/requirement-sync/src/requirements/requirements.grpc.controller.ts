import { Controller, UseGuards, UseInterceptors } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';

import { GRPC_SERVICES, type RequirementV1 } from '@testkase/contracts';
import { GrpcCoreApiGuard, GrpcMappingInterceptor } from '@testkase/platform';

import {
  GrpcListRequirementsRequest,
  GrpcRequirementRef,
  GrpcUpdateRequirementRequest,
} from './dto/grpc-requests.dto';
import { RequirementsService } from './requirements.service';

/**
 * `testkase.gitlab.requirements.v1.RequirementService` (libs/contracts/proto/requirements.proto):
 * the HTTP API's operations over gRPC, with the same validation, use cases and error codes. Each RPC
 * answers its own response message; GrpcMappingInterceptor maps enums and times.
 */
@ApiExcludeController()
@UseGuards(GrpcCoreApiGuard)
@UseInterceptors(new GrpcMappingInterceptor(GRPC_SERVICES.requirements))
@Controller()
export class RequirementsGrpcController {
  constructor(private readonly requirements: RequirementsService) {}

  @GrpcMethod('RequirementService', 'ListRequirements')
  async list(
    @Payload() request: GrpcListRequirementsRequest,
  ): Promise<{ requirements: RequirementV1[]; nextCursor: string | null }> {
    const { projectId, ...query } = request;
    const page = await this.requirements.list(projectId, query);
    return { requirements: page.items, nextCursor: page.nextCursor };
  }

  @GrpcMethod('RequirementService', 'GetRequirement')
  async get(@Payload() request: GrpcRequirementRef): Promise<{ requirement: RequirementV1 }> {
    return { requirement: await this.requirements.get(request.projectId, request.requirementId) };
  }

  @GrpcMethod('RequirementService', 'UpdateRequirement')
  async update(@Payload() request: GrpcUpdateRequirementRequest): Promise<{ requirement: RequirementV1 }> {
    const { projectId, requirementId, ...body } = request;
    return { requirement: await this.requirements.patch(projectId, requirementId, body) };
  }
}
