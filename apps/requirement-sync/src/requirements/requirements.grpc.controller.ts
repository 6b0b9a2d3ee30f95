import { Controller, UseGuards } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';

import type { RequirementV1 } from '@testkase/contracts';
import { GrpcCoreApiGuard } from '@testkase/platform';

import {
  GrpcListRequirementsRequest,
  GrpcRequirementRef,
  GrpcUpdateRequirementRequest,
} from './dto/grpc-requests.dto';
import { RequirementsService } from './requirements.service';

/**
 * `testkase.gitlab.requirements.v1.RequirementService` (libs/contracts/proto/requirements.proto):
 * the HTTP API's operations over gRPC, with the same validation, use cases and error codes.
 */
@ApiExcludeController()
@UseGuards(GrpcCoreApiGuard)
@Controller()
export class RequirementsGrpcController {
  constructor(private readonly requirements: RequirementsService) {}

  @GrpcMethod('RequirementService', 'ListRequirements')
  list(
    @Payload() request: GrpcListRequirementsRequest,
  ): Promise<{ items: RequirementV1[]; nextCursor: string | null }> {
    const { projectId, ...query } = request;
    return this.requirements.list(projectId, query);
  }

  @GrpcMethod('RequirementService', 'GetRequirement')
  get(@Payload() request: GrpcRequirementRef): Promise<RequirementV1> {
    return this.requirements.get(request.projectId, request.requirementId);
  }

  @GrpcMethod('RequirementService', 'UpdateRequirement')
  update(@Payload() request: GrpcUpdateRequirementRequest): Promise<RequirementV1> {
    const { projectId, requirementId, ...body } = request;
    return this.requirements.patch(projectId, requirementId, body);
  }
}
