import { Body, Controller, Get, Param, Patch, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import type { RequirementV1 } from '@testkase/contracts';
import { API_PARAMS, CoreApiGuard } from '@testkase/platform';

import { PatchRequirementBody } from './dto/patch-requirement.dto';
import { ListRequirementsQuery, ProjectParams, RequirementParams } from './dto/requirement-query.dto';
import { RequirementDto, RequirementPageDto } from './dto/requirement.dto';
import { RequirementsService } from './requirements.service';

@ApiTags('requirements')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: missing or wrong core API token' })
@ApiParam(API_PARAMS.projectId)
@UseGuards(CoreApiGuard)
@Controller('v1/projects/:projectId/requirements')
export class RequirementsController {
  constructor(private readonly requirements: RequirementsService) {}

  @Get()
  @ApiOperation({ summary: "The project's requirements, filtered, one page at a time (stable order)" })
  @ApiOkResponse({ type: RequirementPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a bad filter, limit or cursor' })
  list(
    @Param() params: ProjectParams,
    @Query() query: ListRequirementsQuery,
  ): Promise<{ items: RequirementV1[]; nextCursor: string | null }> {
    return this.requirements.list(params.projectId, query);
  }

  @Get(':requirementId')
  @ApiOperation({ summary: 'One requirement' })
  @ApiParam(API_PARAMS.requirementId)
  @ApiOkResponse({ type: RequirementDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such requirement in this project' })
  get(@Param() params: RequirementParams): Promise<RequirementV1> {
    return this.requirements.get(params.projectId, params.requirementId);
  }

  @Patch(':requirementId')
  @ApiOperation({
    summary:
      'Edit a detached requirement (the project was disconnected from GitLab), or set a TestKase priority on a synced one',
  })
  @ApiParam(API_PARAMS.requirementId)
  @ApiOkResponse({ type: RequirementDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  @ApiConflictResponse({
    description:
      'SYNCED_READ_ONLY: GitLab owns this requirement while the project is connected; only priority may be set (the message and `details.fields` name the refused fields)',
  })
  patch(@Param() params: RequirementParams, @Body() body: PatchRequirementBody): Promise<RequirementV1> {
    return this.requirements.patch(params.projectId, params.requirementId, body);
  }
}
