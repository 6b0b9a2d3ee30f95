import { Body, Controller, Delete, Get, Param, Put, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { API_PARAMS, CoreApiGuard } from '@testkase/platform';

import { LinksService, type TestCaseLinksView } from '../links/links.service';
import { LinkTestCaseBody } from './dto/bodies.dto';
import { RequirementParams, TestCaseParams } from './dto/params.dto';

/** 202 while the requirement is not known yet (the links wait for its first event). */
const statusOf = (view: TestCaseLinksView): number => (view.comment.waiting ? 202 : 200);

@ApiTags('test-case links')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: missing or wrong core API token' })
@UseGuards(CoreApiGuard)
@ApiParam(API_PARAMS.projectId)
@ApiParam(API_PARAMS.requirementId)
@Controller('v1/projects/:projectId/requirements/:requirementId/test-cases')
export class LinksController {
  constructor(private readonly links: LinksService) {}

  @Get()
  @ApiOperation({ summary: "A requirement's linked test cases and the state of their GitLab comment" })
  @ApiOkResponse({ description: 'The links and the comment (noteId, syncStatus, error)' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND (no such requirement in this project)' })
  list(@Param() params: RequirementParams): Promise<TestCaseLinksView> {
    return this.links.list(params.projectId, params.requirementId);
  }

  @Put(':testCaseId')
  @ApiParam(API_PARAMS.testCaseId)
  @ApiOperation({
    summary: 'Link a test case (or change how it is shown); the GitLab comment follows, debounced',
  })
  @ApiOkResponse({ description: 'Recorded; comment.syncStatus says whether GitLab shows it yet' })
  @ApiAcceptedResponse({
    description: 'Recorded; the requirement is not known yet (it waits for its first event)',
  })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND (another project’s requirement), NOT_CONNECTED (detached)' })
  async put(
    @Param() params: TestCaseParams,
    @Body() body: LinkTestCaseBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TestCaseLinksView> {
    const view = await this.links.put(params.projectId, params.requirementId, params.testCaseId, {
      key: body.key,
      title: body.title,
      url: body.url,
      status: body.status ?? null,
    });
    void reply.status(statusOf(view));
    return view;
  }

  @Delete(':testCaseId')
  @ApiParam(API_PARAMS.testCaseId)
  @ApiOperation({ summary: 'Unlink a test case; the comment is deleted when the last link goes' })
  @ApiOkResponse({ description: 'The links left and the comment state' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND (not linked), NOT_CONNECTED (detached)' })
  remove(@Param() params: TestCaseParams): Promise<TestCaseLinksView> {
    return this.links.remove(params.projectId, params.requirementId, params.testCaseId);
  }
}
