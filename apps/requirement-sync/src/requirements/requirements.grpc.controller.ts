import { Controller, UseGuards } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validate } from 'class-validator';

import type { RequirementV1 } from '@testkase/contracts';
import { GrpcCoreApiGuard } from '@testkase/platform';
import { ValidationError } from '@testkase/util';

import {
  GrpcListRequirementsRequest,
  GrpcRequirementRef,
  GrpcUpdateRequirementRequest,
} from './dto/grpc-requests.dto';
import { RequirementsService } from './requirements.service';

/**
 * A gRPC message as a validated DTO. proto-loader (`oneofs: true`) adds a synthetic `_<field>` key
 * for each proto3 `optional` field that is set; those are dropped before validation, which then
 * refuses any other unknown field as the HTTP API does.
 */
async function grpcRequest<T extends object>(
  type: ClassConstructor<T>,
  message: Record<string, unknown>,
): Promise<T> {
  const fields = Object.fromEntries(Object.entries(message).filter(([key]) => !key.startsWith('_')));
  const request = plainToInstance(type, fields);
  const errors = await validate(request, {
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
  });
  if (errors.length > 0) {
    const problems = errors.flatMap((error) => Object.values(error.constraints ?? {}));
    throw new ValidationError(`Invalid request: ${problems.join('; ')}`, {
      fields: errors.map((error) => ({
        field: error.property,
        problems: Object.values(error.constraints ?? {}),
      })),
    });
  }
  return request;
}

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
  async list(
    @Payload() message: Record<string, unknown>,
  ): Promise<{ items: RequirementV1[]; nextCursor: string | null }> {
    const { projectId, ...query } = await grpcRequest(GrpcListRequirementsRequest, message);
    return this.requirements.list(projectId, query);
  }

  @GrpcMethod('RequirementService', 'GetRequirement')
  async get(@Payload() message: Record<string, unknown>): Promise<RequirementV1> {
    const request = await grpcRequest(GrpcRequirementRef, message);
    return this.requirements.get(request.projectId, request.requirementId);
  }

  @GrpcMethod('RequirementService', 'UpdateRequirement')
  async update(@Payload() message: Record<string, unknown>): Promise<RequirementV1> {
    const { projectId, requirementId, ...body } = await grpcRequest(GrpcUpdateRequirementRequest, message);
    return this.requirements.patch(projectId, requirementId, body);
  }
}
