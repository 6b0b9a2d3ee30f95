import { CreateMessagingTables1764057600000 } from './1764057600000-CreateMessagingTables';
import { CreateRequirements1764316800000 } from './1764316800000-CreateRequirements';
import { TrackDefectPushes1764921600002 } from './1764921600002-TrackDefectPushes';
import { TrackTestkaseEdits1765500000000 } from './1765500000000-TrackTestkaseEdits';
import { TrackIssueFate1765600000000 } from './1765600000000-TrackIssueFate';
import { TrackWebhookDeliveries1765800000000 } from './1765800000000-TrackWebhookDeliveries';
import { ParkOutboxRows1766000000000 } from './1766000000000-ParkOutboxRows';
import { CreateGitlabRateLimits1766100000000 } from './1766100000000-CreateGitlabRateLimits';
import { AddConnectionPause1766200000000 } from './1766200000000-AddConnectionPause';
import { KeepOutboxTraceContext1766400000000 } from './1766400000000-KeepOutboxTraceContext';
import { TrackIssueRefetches1766500000000 } from './1766500000000-TrackIssueRefetches';

/** Every migration, oldest first. Append-only. */
export const MIGRATIONS = [
  CreateMessagingTables1764057600000,
  CreateRequirements1764316800000,
  TrackDefectPushes1764921600002,
  TrackTestkaseEdits1765500000000,
  TrackIssueFate1765600000000,
  TrackWebhookDeliveries1765800000000,
  ParkOutboxRows1766000000000,
  CreateGitlabRateLimits1766100000000,
  AddConnectionPause1766200000000,
  KeepOutboxTraceContext1766400000000,
  TrackIssueRefetches1766500000000,
];
