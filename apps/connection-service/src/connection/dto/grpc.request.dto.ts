import { Matches } from 'class-validator';

import { ConnectRequestDto, TokenField } from './connect.request.dto';
import { PROJECT_ID_PATTERN, PROJECT_ID_PROBLEM } from './project-id.pipe';

/** gRPC messages carry the project id in the message (HTTP has it in the path). */
export class GrpcProjectRefDto {
  @Matches(PROJECT_ID_PATTERN, { message: `projectId ${PROJECT_ID_PROBLEM}` })
  projectId!: string;
}

export class GrpcConnectRequestDto extends ConnectRequestDto {
  @Matches(PROJECT_ID_PATTERN, { message: `projectId ${PROJECT_ID_PROBLEM}` })
  projectId!: string;
}

export class GrpcRotateTokenRequestDto extends TokenField {
  @Matches(PROJECT_ID_PATTERN, { message: `projectId ${PROJECT_ID_PROBLEM}` })
  projectId!: string;
}
