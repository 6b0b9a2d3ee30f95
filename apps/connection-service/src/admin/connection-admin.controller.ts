import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { AdminApiGuard, API_PARAMS, ConnectionIdParamPipe } from '@testkase/platform';

import { ConnectionAdminService } from './connection-admin.service';

/** connection-service's own admin routes (docs/ADMIN-API.md, "connection-service"). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminApiGuard)
@Controller('admin/v1')
export class ConnectionAdminController {
  constructor(private readonly admin: ConnectionAdminService) {}

  @Get('connections/:connectionId')
  @ApiParam(API_PARAMS.connectionId)
  @ApiOperation({ summary: 'A connection: status and pause state' })
  get(@Param('connectionId', ConnectionIdParamPipe) connectionId: string) {
    return this.admin.get(connectionId);
  }

  @Post('connections/:connectionId/resync')
  @ApiParam(API_PARAMS.connectionId)
  @HttpCode(202)
  @ApiOperation({ summary: 'Force a full reconciliation (integration.connection.resync_requested)' })
  resync(@Param('connectionId', ConnectionIdParamPipe) connectionId: string) {
    return this.admin.resync(connectionId);
  }

  @Post('connections/:connectionId/pause')
  @ApiParam(API_PARAMS.connectionId)
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause the sync of a connection (webhook events are held, not dropped)' })
  pause(@Param('connectionId', ConnectionIdParamPipe) connectionId: string) {
    return this.admin.setPaused(connectionId, true);
  }

  @Post('connections/:connectionId/resume')
  @ApiParam(API_PARAMS.connectionId)
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume the sync of a paused connection (everything held catches up)' })
  resume(@Param('connectionId', ConnectionIdParamPipe) connectionId: string) {
    return this.admin.setPaused(connectionId, false);
  }

  @Post('reencrypt')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-seal every stored secret with the first key of TOKEN_ENCRYPTION_KEYS' })
  reencrypt() {
    return this.admin.reencrypt();
  }
}
