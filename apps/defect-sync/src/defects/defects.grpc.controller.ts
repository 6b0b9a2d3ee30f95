import { Controller, UseGuards } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';

import type { DefectV1 } from '@testkase/contracts';
import { GrpcCoreApiGuard } from '@testkase/platform';

import { DefectsService, type PushOutcome } from './defects.service';
import { GrpcDefectRef, GrpcPushDefectRequest, GrpcUpdateDefectRequest } from './dto/grpc-requests.dto';

/**
 * `testkase.gitlab.defects.v1.DefectService` (libs/contracts/proto/defects.proto): the HTTP API's
 * operations over gRPC, with the same validation, use cases and error codes.
 */
@ApiExcludeController()
@UseGuards(GrpcCoreApiGuard)
@Controller()
export class DefectsGrpcController {
  constructor(private readonly defects: DefectsService) {}

  @GrpcMethod('DefectService', 'PushDefect')
  push(@Payload() request: GrpcPushDefectRequest): Promise<{ outcome: PushOutcome; defect: DefectV1 }> {
    const { projectId, defectId, ...body } = request;
    return this.defects.push(projectId, defectId, body);
  }

  @GrpcMethod('DefectService', 'UpdateDefect')
  update(@Payload() request: GrpcUpdateDefectRequest): Promise<DefectV1> {
    const { projectId, defectId, ...body } = request;
    return this.defects.patch(projectId, defectId, body);
  }

  @GrpcMethod('DefectService', 'GetDefect')
  get(@Payload() request: GrpcDefectRef): Promise<DefectV1> {
    return this.defects.get(request.projectId, request.defectId);
  }
}
