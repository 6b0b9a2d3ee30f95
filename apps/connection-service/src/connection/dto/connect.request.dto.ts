import { X509Certificate } from 'node:crypto';

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  registerDecorator,
} from 'class-validator';

export const MAX_INSTANCE_URL_LENGTH = 2_048;
export const MAX_TOKEN_LENGTH = 512;
export const MAX_CA_CERTIFICATE_LENGTH = 64 * 1024;
export const MAX_PROJECT_REF_LENGTH = 1_024;

/** A numeric id, or a full path such as `group/sub/project` (GitLab's path characters). */
const PROJECT_REF = /^(?:[1-9]\d{0,17}|[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.+-]*)+)$/;
/** Personal access tokens are printable ASCII without spaces. */
const TOKEN = /^[\x21-\x7e]+$/;

/** The value parses as a PEM X.509 certificate (node:crypto). */
function IsPemCertificate(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPemCertificate',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string' || !value.includes('-----BEGIN CERTIFICATE-----')) return false;
          try {
            new X509Certificate(value);
            return true;
          } catch {
            return false;
          }
        },
        defaultMessage: () =>
          'caCertificate must be a PEM-encoded X.509 certificate (-----BEGIN CERTIFICATE-----)',
      },
    });
}

/** `projectRef` may also be sent as a JSON number. */
const NumberToString = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : value,
  );

export class TokenField {
  @ApiProperty({
    description: 'GitLab Personal Access Token with the `api` scope. Stored encrypted; never returned.',
    example: '<a personal access token, glpat-…>',
    maxLength: MAX_TOKEN_LENGTH,
    writeOnly: true,
  })
  @Matches(TOKEN, { message: 'token must be printable characters without spaces' })
  @MaxLength(MAX_TOKEN_LENGTH, { message: `token must be at most ${MAX_TOKEN_LENGTH} characters` })
  @IsNotEmpty({ message: 'token is required' })
  @IsString({ message: 'token must be a string' })
  token!: string;
}

export class ConnectRequestDto extends TokenField {
  @ApiProperty({ enum: ['gitlab'], example: 'gitlab' })
  @IsIn(['gitlab'], { message: 'platform must be "gitlab"' })
  platform!: 'gitlab';

  @ApiProperty({
    description: 'Base URL of the GitLab instance (http or https, no credentials, no query).',
    example: 'https://gitlab.com',
    maxLength: MAX_INSTANCE_URL_LENGTH,
  })
  @MaxLength(MAX_INSTANCE_URL_LENGTH, {
    message: `instanceUrl must be at most ${MAX_INSTANCE_URL_LENGTH} characters`,
  })
  @IsNotEmpty({ message: 'instanceUrl is required' })
  @IsString({ message: 'instanceUrl must be a string' })
  instanceUrl!: string;

  @ApiProperty({
    description: 'The GitLab project: numeric id or full path (`group/subgroup/project`).',
    example: 'acme/platform/checkout',
    maxLength: MAX_PROJECT_REF_LENGTH,
    oneOf: [{ type: 'string' }, { type: 'integer' }],
  })
  @Matches(PROJECT_REF, {
    message: 'projectRef must be a numeric project id or a path such as group/project',
  })
  @MaxLength(MAX_PROJECT_REF_LENGTH, {
    message: `projectRef must be at most ${MAX_PROJECT_REF_LENGTH} characters`,
  })
  @IsString({ message: 'projectRef must be a string (or a positive integer id)' })
  @NumberToString()
  projectRef!: string;

  @ApiPropertyOptional({
    description: 'PEM of the private CA that signed the instance certificate (self-managed GitLab).',
    maxLength: MAX_CA_CERTIFICATE_LENGTH,
  })
  @IsPemCertificate()
  @MaxLength(MAX_CA_CERTIFICATE_LENGTH, {
    message: `caCertificate must be at most ${MAX_CA_CERTIFICATE_LENGTH} characters`,
  })
  @IsString({ message: 'caCertificate must be a string' })
  @IsOptional()
  caCertificate?: string;
}

export class RotateTokenRequestDto extends TokenField {}
