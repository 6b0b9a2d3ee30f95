import { CONNECTION_MODES, CONNECTION_STATUSES } from '../events/connection/connection.events';
import { DEFECT_PRIORITIES, DEFECT_STATUSES, DEFECT_SYNC_STATUSES } from '../events/defect/defect.events';
import { PRIORITIES, REQUIREMENT_STATUSES } from '../events/requirement/requirement.events';

/**
 * The API's value of each proto enum, in the order of the enum's values after `_UNSPECIFIED`. The
 * proto name of a value is the enum's name in UPPER_SNAKE, `_`, and the value in UPPER_SNAKE
 * (`In-Progress` of DefectStatus is `DEFECT_STATUS_IN_PROGRESS`): see protoEnumValueName.
 */
export const GRPC_ENUM_VALUES: Readonly<Record<string, readonly string[]>> = {
  'testkase.gitlab.connection.v1.ConnectionStatus': CONNECTION_STATUSES,
  'testkase.gitlab.connection.v1.ConnectionMode': CONNECTION_MODES,
  'testkase.gitlab.requirements.v1.RequirementStatus': REQUIREMENT_STATUSES,
  'testkase.gitlab.requirements.v1.RequirementPriority': PRIORITIES,
  'testkase.gitlab.defects.v1.DefectPriority': DEFECT_PRIORITIES,
  'testkase.gitlab.defects.v1.DefectStatus': DEFECT_STATUSES,
  'testkase.gitlab.defects.v1.DefectSyncStatus': DEFECT_SYNC_STATUSES,
  'testkase.gitlab.comments.v1.CommentSyncStatus': ['synced', 'pending', 'failed'],
};

const upperSnake = (text: string) =>
  text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();

/** `DefectStatus`, `In-Progress` → `DEFECT_STATUS_IN_PROGRESS`; `ConnectionMode`, `webhook_manual` → `CONNECTION_MODE_WEBHOOK_MANUAL`. */
export function protoEnumValueName(enumName: string, value: string): string {
  const short = enumName.slice(enumName.lastIndexOf('.') + 1);
  return `${upperSnake(short)}_${value.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`;
}
