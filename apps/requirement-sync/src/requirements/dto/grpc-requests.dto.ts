import { IsString, IsUUID, Length } from 'class-validator';

import { PatchRequirementBody } from './patch-requirement.dto';
import { ListRequirementsQuery } from './requirement-query.dto';

/** gRPC messages carry the ids in the message (HTTP has them in the path). */
export class GrpcListRequirementsRequest extends ListRequirementsQuery {
  @IsString() @Length(1, 128) projectId!: string;
}

export class GrpcRequirementRef {
  @IsString() @Length(1, 128) projectId!: string;
  @IsUUID() requirementId!: string;
}

export class GrpcUpdateRequirementRequest extends PatchRequirementBody {
  @IsString() @Length(1, 128) projectId!: string;
  @IsUUID() requirementId!: string;
}
