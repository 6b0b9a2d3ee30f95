import { Inject, Injectable } from '@nestjs/common';

import { GitlabAccess, type JobLease } from '@testkase/consumer-kit';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import type { ConnectionRecord } from '../connections/connection.record';
import { RequirementRepository, type DefectHoldSettings } from '../requirements/requirement.repository';
import { IssuePageWriter, type MappedPage } from './issue-page.writer';

const BATCH = 100;

/**
 * Issues carrying a defect marker that were held back (their push was in flight, or they were
 * younger than DEFECT_MARKER_GRACE): when the hold has ended they are fetched again and upserted
 * by the usual rules, so a copy of a pushed issue becomes a requirement; those still waiting are
 * looked at again later. (An issue defect-sync created leaves the hold when its push finishes.)
 */
@Injectable()
export class HeldIssuesRunner {
  private readonly hold: DefectHoldSettings;

  constructor(
    private readonly access: GitlabAccess,
    private readonly requirements: RequirementRepository,
    private readonly writer: IssuePageWriter,
    @Inject(REQUIREMENT_SYNC_CONFIG) config: RequirementSyncConfig,
  ) {
    this.hold = { graceMs: config.DEFECT_MARKER_GRACE, pushHoldMaxMs: config.DEFECT_PUSH_HOLD_MAX };
  }

  async run(lease: JobLease, connection: ConnectionRecord, signal: AbortSignal): Promise<void> {
    const connectionId = connection.connection_id;
    const gitlab = await this.access.clientFor(connectionId);
    while (!signal.aborted) {
      const { released, due } = await lease.transaction((tx) =>
        this.requirements.releaseHeld(tx, connectionId, this.hold, BATCH),
      );
      if (due === 0) return;
      if (released.length === 0) continue;
      const found: MappedPage[] = [];
      for await (const page of gitlab.issues.pages(Number(connection.gitlab_project_id), {
        iids: released,
        per_page: BATCH,
      })) {
        found.push(this.writer.map(page.items, connection));
      }
      const rows = found.flatMap((page) => page.rows);
      const written = await lease.transaction((tx) => this.writer.write(tx, connection, rows));
      if (!written) return;
    }
  }
}
