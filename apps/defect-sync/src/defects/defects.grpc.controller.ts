import { Controller, UseGuards, UseInterceptors } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';

import { GRPC_SERVICES, type DefectV1 } from '@testkase/contracts';
import { GrpcCoreApiGuard, GrpcMappingInterceptor } from '@testkase/platform';

import { DefectsService, type PushOutcome } from './defects.service';
import { GrpcDefectRef, GrpcPushDefectRequest, GrpcUpdateDefectRequest } from './dto/grpc-requests.dto';

/**
 * `testkase.gitlab.defects.v1.DefectService` (libs/contracts/proto/defects.proto): the HTTP API's
 * operations over gRPC, with the same validation, use cases and error codes. Each RPC answers its
 * own response message; GrpcMappingInterceptor maps enums and times.
 */
@ApiExcludeController()
@UseGuards(GrpcCoreApiGuard)
@UseInterceptors(new GrpcMappingInterceptor(GRPC_SERVICES.defects))
@Controller()
export class DefectsGrpcController {
  constructor(private readonly defects: DefectsService) {}

  @GrpcMethod('DefectService', 'PushDefect')
  push(@Payload() request: GrpcPushDefectRequest): Promise<{ outcome: PushOutcome; defect: DefectV1 }> {
    const { projectId, defectId, ...body } = request;
    return this.defects.push(projectId, defectId, body);
  }

  @GrpcMethod('DefectService', 'UpdateDefect')
  async update(@Payload() request: GrpcUpdateDefectRequest): Promise<{ defect: DefectV1 }> {
    const { projectId, defectId, ...body } = request;
    return { defect: await this.defects.patch(projectId, defectId, body) };
  }

  @GrpcMethod('DefectService', 'GetDefect')
  async get(@Payload() request: GrpcDefectRef): Promise<{ defect: DefectV1 }> {
    return { defect: await this.defects.get(request.projectId, request.defectId) };
  }
}
