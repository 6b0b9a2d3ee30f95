import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  Equals,
  IsInt,
  IsOptional,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

const CONSUMER = /^[a-z0-9][a-z0-9-]{0,99}$/;
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** A NATS subject or pattern: tokens of printable characters, `*` and `>` allowed. */
const SUBJECT = /^[!-~]{1,256}$/;
const SEQUENCE = /^\d{1,15}$/;

/** Which dead letters: any of consumer, code and subject (a query's or a replay's filter). */
export class DeadLetterFilterDto {
  @IsOptional()
  @Matches(CONSUMER, { message: 'consumer must be a durable name such as requirement-sync-issues' })
  consumer?: string;

  @IsOptional()
  @Matches(CODE, { message: 'code must be an error code such as VALIDATION_FAILED' })
  code?: string;

  @IsOptional()
  @Matches(SUBJECT, { message: 'subject must be a NATS subject or pattern (no spaces)' })
  subject?: string;
}

/** Query of `GET /admin/v1/dead-letters`. */
export class DeadLetterQueryDto extends DeadLetterFilterDto {
  @IsOptional()
  @Matches(SEQUENCE, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** Body of `POST /admin/v1/dead-letters/replay`: a filter, or `all: true` for every dead letter. */
export class DeadLetterReplayDto extends DeadLetterFilterDto {
  @IsOptional()
  @Equals(true, { message: 'all must be true (or left out and a filter given)' })
  all?: true;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000)
  limit?: number;
}

/** Query of `GET /admin/v1/outbox/parked`. */
export class ParkedOutboxQueryDto {
  @IsOptional()
  @Matches(SEQUENCE, { message: 'after must be a row id' })
  after?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000)
  limit?: number;
}

/** Body of `POST /admin/v1/outbox/parked/replay`: row ids, or `all: true`. */
export class ParkedOutboxReplayDto {
  @IsOptional()
  @ArrayNotEmpty()
  @ArrayMaxSize(1_000)
  @MaxLength(19, { each: true })
  @Matches(/^\d{1,19}$/, { each: true, message: 'ids must be outbox row ids (integers)' })
  ids?: string[];

  @IsOptional()
  @Equals(true, { message: 'all must be true (or left out and ids given)' })
  all?: true;
}
