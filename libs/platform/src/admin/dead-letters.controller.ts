import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { ValidationError } from '@testkase/util';

import { API_PARAMS } from '../http/openapi';
import { AdminApiGuard } from './admin-api.guard';
import { SequenceParamPipe } from './admin-params';
import { DeadLetterQueryDto, DeadLetterReplayDto } from './admin.dto';
import { DeadLetterAdmin } from './dead-letters';

/** Dead letters of this service's consumers (docs/ADMIN-API.md, "Dead letters"). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminApiGuard)
@Controller('admin/v1/dead-letters')
export class DeadLettersAdminController {
  constructor(@Inject(DeadLetterAdmin) private readonly deadLetters: DeadLetterAdmin) {}

  @Get()
  @ApiOperation({ summary: 'List the dead letters of this service, oldest first (filter, paging)' })
  list(@Query() query: DeadLetterQueryDto) {
    const { cursor, limit, ...filter } = query;
    return this.deadLetters.list(filter, cursor ? Number(cursor) : 0, limit ?? 100);
  }

  @Get(':sequence')
  @ApiParam(API_PARAMS.sequence)
  @ApiOperation({ summary: 'One dead letter with its headers and body' })
  get(@Param('sequence', SequenceParamPipe) sequence: number) {
    return this.deadLetters.get(sequence);
  }

  @Post('replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replay every dead letter matching a filter (or all: true), up to limit' })
  async replayMatching(@Body() body: DeadLetterReplayDto) {
    const { all, limit, ...filter } = body;
    const filtered = Object.values(filter).some((value) => value !== undefined);
    if (filtered === (all === true)) {
      throw new ValidationError('give a filter (consumer, code, subject) or all: true, not both');
    }
    return this.deadLetters.replayMatching(filter, limit ?? 100);
  }

  @Post(':sequence/replay')
  @ApiParam(API_PARAMS.sequence)
  @HttpCode(200)
  @ApiOperation({ summary: 'Republish one dead letter to its original subject and remove it' })
  replay(@Param('sequence', SequenceParamPipe) sequence: number) {
    return this.deadLetters.replay(sequence);
  }
}
