import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUrl, Length, Matches, MaxLength } from 'class-validator';

import { DEFECT_ID_PATTERN } from '@testkase/contracts';

const HTTP_URL = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };
const NOT_BLANK = /\S/;
/** Longest comment body accepted (HTML or Markdown); GitLab keeps 1,000,000 characters, the rest is cut with a note. */
export const MAX_COMMENT_CHARS = 4_000_000;
export const BODY_FORMATS = ['html', 'markdown'] as const;

/** `PUT …/test-cases/:testCaseId`: the test case as the comment lists it. */
export class LinkTestCaseBody {
  @ApiProperty({ example: 'TC-112' })
  @IsString()
  @Length(1, 128)
  @Matches(NOT_BLANK, { message: 'key must not be blank' })
  key!: string;

  @ApiProperty({ example: 'Checkout with an expired card' })
  @IsString()
  @Length(1, 1_000)
  @Matches(NOT_BLANK, { message: 'title must not be blank' })
  title!: string;

  @ApiProperty({ example: 'https://testkase.example.com/p/demo/test-cases/TC-112' })
  @IsUrl(HTTP_URL, { message: 'url must be an http(s) URL' })
  @MaxLength(2_048)
  url!: string;

  @ApiPropertyOptional({ example: 'Passed', description: 'The latest execution status, shown as given' })
  @IsOptional()
  @IsString()
  @Length(1, 50)
  status?: string;
}

class CommentContent {
  @ApiProperty({ example: 'Ada Lovelace', description: 'Shown as "**Ada Lovelace** commented in TestKase:"' })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'author must not be blank' })
  author!: string;

  @ApiProperty({ example: '<p>Reproduced on <strong>staging</strong>.</p>' })
  @IsString()
  @Length(1, MAX_COMMENT_CHARS)
  @Matches(NOT_BLANK, { message: 'body must not be blank' })
  body!: string;

  @ApiPropertyOptional({
    enum: BODY_FORMATS,
    default: 'html',
    description: 'TestKase rich text (html) or Markdown',
  })
  @IsOptional()
  @IsIn(BODY_FORMATS)
  bodyFormat?: (typeof BODY_FORMATS)[number];
}

/** `POST …/comments`. */
export class PostCommentBody extends CommentContent {
  @ApiProperty({
    example: 'CMT-9',
    description: 'TestKase comment id: a retried post with it never makes two notes',
  })
  @IsString()
  @Matches(DEFECT_ID_PATTERN, {
    message: 'commentId must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-"',
  })
  commentId!: string;
}

/** `PUT …/comments/:commentId`. */
export class EditCommentBody extends CommentContent {}
