import { Body, Controller, Get, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';

import { ValidationError } from '@testkase/util';

import { sqlOf } from '../database/sql';
import { listParkedOutboxRows, replayParkedOutboxRows } from '../messaging/outbox-admin';
import { AdminApiGuard } from './admin-api.guard';
import { ParkedOutboxQueryDto, ParkedOutboxReplayDto } from './admin.dto';

/** Injection token of the schema whose outbox the admin API shows (the app's own). */
export const ADMIN_OUTBOX_SCHEMA = Symbol('ADMIN_OUTBOX_SCHEMA');

/**
 * Parked outbox rows of this service (docs/ARCHITECTURE.md, "Outbox relay"): what
 * `npm run outbox-parked` does, over HTTP (docs/ADMIN-API.md, "Parked outbox rows").
 */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminApiGuard)
@Controller('admin/v1/outbox/parked')
export class OutboxParkedAdminController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(ADMIN_OUTBOX_SCHEMA) private readonly schema: string,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List the parked outbox rows, oldest first (payloads left out)' })
  async list(@Query() query: ParkedOutboxQueryDto) {
    const limit = query.limit ?? 100;
    const rows = await listParkedOutboxRows(
      sqlOf(this.dataSource.manager),
      this.schema,
      limit + 1,
      query.after,
    );
    return {
      items: rows.slice(0, limit),
      nextCursor: rows.length > limit ? (rows[limit - 1]?.id ?? null) : null,
    };
  }

  @Post('replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give parked rows (ids, or all: true) back to the relay' })
  async replay(@Body() body: ParkedOutboxReplayDto) {
    if ((body.ids !== undefined) === (body.all === true)) {
      throw new ValidationError('give ids or all: true, not both');
    }
    const replayed = await replayParkedOutboxRows(
      sqlOf(this.dataSource.manager),
      this.schema,
      body.ids ? { ids: body.ids } : 'all',
    );
    return { replayed };
  }
}
