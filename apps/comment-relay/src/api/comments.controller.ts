import { Body, Controller, Delete, Get, Param, Post, Put, Res, UseGuards } from '@nestjs/common';
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
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { API_PARAMS, CoreApiGuard } from '@testkase/platform';

import { CommentsService, type CommentOutcome, type CommentView } from '../comments/comments.service';
import { EditCommentBody, PostCommentBody } from './dto/bodies.dto';
import { CommentParams, DefectParams } from './dto/params.dto';

const STATUS: Readonly<Record<CommentOutcome, number>> = {
  created: 201,
  existing: 200,
  updated: 200,
  pending: 202,
};

@ApiTags('defect comments')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: missing or wrong core API token' })
@UseGuards(CoreApiGuard)
@ApiParam(API_PARAMS.projectId)
@ApiParam(API_PARAMS.defectId)
@Controller('v1/projects/:projectId/defects/:defectId/comments')
export class CommentsController {
  constructor(private readonly comments: CommentsService) {}

  @Post()
  @ApiOperation({
    summary: "Post a TestKase comment on the defect's GitLab issue (idempotent by commentId)",
    description:
      'Attributed, rich text → GitLab Markdown, quick actions neutralised. Waits up to COMMENT_WAIT (2 s) for GitLab; beyond that (rate limit, outage) answers 202 and the note follows.',
  })
  @ApiCreatedResponse({ description: 'The note was posted' })
  @ApiOkResponse({ description: 'A comment with this id was posted before: its state' })
  @ApiAcceptedResponse({ description: 'pending: queued (rate limit, GitLab slow, defect not known yet)' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiNotFoundResponse({ description: 'NOT_CONNECTED (project not connected, or the defect is detached)' })
  async post(
    @Param() params: DefectParams,
    @Body() body: PostCommentBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CommentView> {
    const result = await this.comments.post(params.projectId, params.defectId, body.commentId, body);
    void reply.status(STATUS[result.outcome]);
    return result.comment;
  }

  @Get(':commentId')
  @ApiParam(API_PARAMS.commentId)
  @ApiOperation({ summary: "A TestKase comment's GitLab note and its sync state" })
  @ApiOkResponse({ description: 'The comment state' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  get(@Param() params: CommentParams): Promise<CommentView> {
    return this.comments.get(params.projectId, params.defectId, params.commentId);
  }

  @Put(':commentId')
  @ApiParam(API_PARAMS.commentId)
  @ApiOperation({ summary: 'Edit the note of a TestKase comment' })
  @ApiOkResponse({ description: 'Edited (or queued: see syncStatus)' })
  @ApiAcceptedResponse({ description: 'pending' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND, NOT_CONNECTED' })
  async edit(
    @Param() params: CommentParams,
    @Body() body: EditCommentBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CommentView> {
    const result = await this.comments.edit(params.projectId, params.defectId, params.commentId, body);
    void reply.status(STATUS[result.outcome]);
    return result.comment;
  }

  @Delete(':commentId')
  @ApiParam(API_PARAMS.commentId)
  @ApiOperation({ summary: 'Delete the note of a TestKase comment' })
  @ApiOkResponse({ description: 'Deleted (or queued: see syncStatus)' })
  @ApiAcceptedResponse({ description: 'pending' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND, NOT_CONNECTED' })
  async remove(
    @Param() params: CommentParams,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CommentView> {
    const result = await this.comments.remove(params.projectId, params.defectId, params.commentId);
    void reply.status(STATUS[result.outcome]);
    return result.comment;
  }
}
