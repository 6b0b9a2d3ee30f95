import type { JobLease, ProjectContext } from '@testkase/consumer-kit';
import type { GitlabClient } from '@testkase/gitlab';

/** What every piece of a connection's lane works with. */
export interface LaneContext {
  /** The connection's job lease: its writes that must not outlive the lease go through it. */
  readonly lease: JobLease;
  readonly project: ProjectContext;
  readonly gitlab: GitlabClient;
  /** The token's owner: the author of every issue defect-sync creates. */
  readonly tokenUserId: number;
}
