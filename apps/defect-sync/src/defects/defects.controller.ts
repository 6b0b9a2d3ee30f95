import { Body, Controller, Get, Param, Patch, Post, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import type { DefectV1 } from '@testkase/contracts';
import { API_PARAMS, CoreApiGuard } from '@testkase/platform';

import { DefectsService, type PushOutcome } from './defects.service';
import { DefectParams } from './dto/defect-params.dto';
import { DefectDto, PushResultDto } from './dto/defect.dto';
import { PatchDefectBody } from './dto/patch-defect.dto';
import { PushDefectBody } from './dto/push-defect.dto';

const STATUS: Readonly<Record<PushOutcome, number>> = { created: 201, existing: 200, pending: 202 };

@ApiTags('defects')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: missing or wrong core API token' })
@UseGuards(CoreApiGuard)
@ApiParam(API_PARAMS.projectId)
@ApiParam(API_PARAMS.defectId)
@Controller('v1/projects/:projectId/defects/:defectId')
export class DefectsController {
  constructor(private readonly defects: DefectsService) {}

  @Post('push')
  @ApiOperation({
    summary: 'Push a defect to GitLab as an issue (exactly one issue per defect)',
    description:
      'Creates the issue (title, description with the execution context, a link back and a hidden marker, the priority label; closed at once for Closed or Achieved defects). Waits up to PUSH_WAIT (2 s) for GitLab; beyond that answers 202 and testkase.defect.pushed follows.',
  })
  @ApiCreatedResponse({ type: PushResultDto, description: 'The issue was created' })
  @ApiOkResponse({ type: PushResultDto, description: 'The defect was pushed before: the existing link' })
  @ApiAcceptedResponse({
    type: PushResultDto,
    description: 'pending: GitLab is slow or rate-limited; the event follows',
  })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiNotFoundResponse({ description: 'NOT_CONNECTED: the project has no GitLab connection' })
  @ApiUnprocessableEntityResponse({
    description: "GITLAB_REJECTED (GitLab's own message), INSUFFICIENT_ROLE, AUTH_FAILED, PROJECT_NOT_FOUND",
  })
  async push(
    @Param() params: DefectParams,
    @Body() body: PushDefectBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ outcome: PushOutcome; defect: DefectV1 }> {
    const result = await this.defects.push(params.projectId, params.defectId, body);
    void reply.status(STATUS[result.outcome]);
    return result;
  }

  @Patch()
  @ApiOperation({
    summary: 'Change a pushed defect (title, description, priority, status); GitLab follows',
    description:
      'Waits up to PUSH_WAIT for the GitLab write; syncStatus says whether it is done (synced) or queued (pending).',
  })
  @ApiOkResponse({ type: DefectDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiNotFoundResponse({
    description: 'NOT_FOUND (no such defect in this project), NOT_CONNECTED (detached)',
  })
  patch(@Param() params: DefectParams, @Body() body: PatchDefectBody): Promise<DefectV1> {
    return this.defects.patch(params.projectId, params.defectId, body);
  }

  @Get()
  @ApiOperation({ summary: "A defect's GitLab link, its last synced state and its sync status" })
  @ApiOkResponse({ type: DefectDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  get(@Param() params: DefectParams): Promise<DefectV1> {
    return this.defects.get(params.projectId, params.defectId);
  }
}
