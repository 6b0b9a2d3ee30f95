import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { CoreApiGuard } from '@testkase/platform';

import { ConnectionService } from './connection.service';
import { ConnectRequestDto, RotateTokenRequestDto } from './dto/connect.request.dto';
import { ConnectionView, ConnectResponseView, ResyncAcceptedView } from './dto/connection.response.dto';
import { ProjectIdPipe } from './dto/project-id.pipe';

const PROJECT_ID_PARAM = {
  name: 'projectId',
  description: 'TestKase project id: 1-128 characters of A-Z a-z 0-9 _ . : -',
  example: 'demo',
};
const ERROR_BODY = 'JSON {"error":{"code","message","details"?}}';

/** The connection API TestKase core calls (docs/ARCHITECTURE.md, "HTTP API for TestKase core"). */
@ApiTags('connection')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: `UNAUTHENTICATED: missing or wrong core API token. ${ERROR_BODY}` })
@ApiBadRequestResponse({ description: `VALIDATION_FAILED: malformed body or projectId. ${ERROR_BODY}` })
@UseGuards(CoreApiGuard)
@Controller('v1/projects/:projectId/connection')
export class ConnectionController {
  constructor(private readonly connections: ConnectionService) {}

  @Put()
  @ApiOperation({
    summary: 'Connect the project to a GitLab project (or update the connection)',
    description:
      'Checks, in order: the body; the instance URL (URL_NOT_ALLOWED, INSTANCE_UNREACHABLE with the cause); the token ' +
      '(AUTH_FAILED, TOKEN_EXPIRED, INSUFFICIENT_SCOPE: needs `api`); the project (PROJECT_NOT_FOUND) and the role ' +
      '(INSUFFICIENT_ROLE below Reporter). Maintainer/Owner: the project hook is registered here (webhook_managed). ' +
      'Reporter/Developer: webhook_manual, and the answer carries the hook URL, the secret (once) and the events to tick. ' +
      'Connecting again to the same GitLab project updates the connection; to another one answers ALREADY_CONNECTED.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiBody({ type: ConnectRequestDto })
  @ApiOkResponse({ type: ConnectResponseView })
  @ApiConflictResponse({
    description: `ALREADY_CONNECTED: connected to another GitLab project. ${ERROR_BODY}`,
  })
  @ApiUnprocessableEntityResponse({
    description: `URL_NOT_ALLOWED, AUTH_FAILED, TOKEN_EXPIRED, INSUFFICIENT_SCOPE, PROJECT_NOT_FOUND, INSUFFICIENT_ROLE, GITLAB_REJECTED. ${ERROR_BODY}`,
  })
  @ApiResponse({ status: 502, description: `INSTANCE_UNREACHABLE (details.cause names it). ${ERROR_BODY}` })
  connect(
    @Param('projectId', ProjectIdPipe) projectId: string,
    @Body() body: ConnectRequestDto,
  ): Promise<ConnectResponseView> {
    return this.connections.connect(projectId, body);
  }

  @Get()
  @ApiOperation({ summary: 'The current connection (status, token facts, role, hook state, last delivery)' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ConnectionView })
  @ApiNotFoundResponse({ description: `NOT_CONNECTED. ${ERROR_BODY}` })
  get(@Param('projectId', ProjectIdPipe) projectId: string): Promise<ConnectionView> {
    return this.connections.get(projectId);
  }

  @Delete()
  @ApiOperation({
    summary:
      'Disconnect: deliveries are refused at once, the GitLab hook is removed (best effort, outcome in hook.removal)',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ConnectionView, description: 'The connection as it was left (status disconnected)' })
  @ApiNotFoundResponse({ description: `NOT_CONNECTED. ${ERROR_BODY}` })
  disconnect(@Param('projectId', ProjectIdPipe) projectId: string): Promise<ConnectionView> {
    return this.connections.disconnect(projectId);
  }

  @Put('token')
  @ApiOperation({
    summary: 'Rotate the GitLab token',
    description:
      'The new token is checked against the connected project like at connect time (a managed hook needs Maintainer), ' +
      'then replaces the old one in one step: requests in flight never see a gap.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiBody({ type: RotateTokenRequestDto })
  @ApiOkResponse({ type: ConnectionView })
  @ApiNotFoundResponse({ description: `NOT_CONNECTED. ${ERROR_BODY}` })
  @ApiUnprocessableEntityResponse({
    description: `AUTH_FAILED, TOKEN_EXPIRED, INSUFFICIENT_SCOPE, PROJECT_NOT_FOUND, INSUFFICIENT_ROLE. ${ERROR_BODY}`,
  })
  rotateToken(
    @Param('projectId', ProjectIdPipe) projectId: string,
    @Body() body: RotateTokenRequestDto,
  ): Promise<ConnectionView> {
    return this.connections.rotateToken(projectId, body.token);
  }

  @Post('resync')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ask for a full reconciliation now (emits integration.connection.resync_requested)',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiAcceptedResponse({ type: ResyncAcceptedView })
  @ApiNotFoundResponse({ description: `NOT_CONNECTED. ${ERROR_BODY}` })
  resync(@Param('projectId', ProjectIdPipe) projectId: string): Promise<ResyncAcceptedView> {
    return this.connections.resync(projectId);
  }
}
