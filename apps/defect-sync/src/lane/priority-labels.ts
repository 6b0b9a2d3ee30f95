import { Injectable } from '@nestjs/common';

import type { GitlabClient } from '@testkase/gitlab';
import { isAppError } from '@testkase/util';

import { DefectMetrics } from '../metrics/defect.metrics';

/** Colours and descriptions of the labels defect-sync creates when a project has none. */
const LABEL_LOOK: Readonly<Record<string, { color: string; description: string }>> = {
  'priority::critical': { color: '#cc0033', description: 'TestKase defect priority Blocker' },
  'priority::high': { color: '#e8590c', description: 'TestKase defect priority Critical' },
  'priority::medium': { color: '#f0ad4e', description: 'TestKase defect priority Major' },
  'priority::low': { color: '#5cb85c', description: 'TestKase defect priority Minor or Trivial' },
};

/** How long a label's state is believed before it is checked again. */
const KNOWN_TTL_MS = 10 * 60_000;
const FORBIDDEN_TTL_MS = 60_000;

export type LabelState = 'exists' | 'forbidden' | 'unknown';

/**
 * Makes sure a priority label exists before an issue uses it, so GitLab does not invent one with a
 * random colour: create it (201), or learn it exists (409: maybe as a group label). A 403 means the
 * token may not create labels in this project (docs/GITLAB.md, "Labels"); the issue is created
 * anyway and the label is applied once it exists. Answers are remembered per project for a while.
 */
@Injectable()
export class PriorityLabels {
  private readonly known = new Map<string, { state: LabelState; until: number }>();

  constructor(private readonly metrics: DefectMetrics) {}

  async ensure(gitlab: GitlabClient, gitlabProjectId: number, label: string): Promise<LabelState> {
    const key = `${gitlab.instanceUrl}\n${gitlabProjectId}\n${label}`;
    const cached = this.known.get(key);
    if (cached && cached.until > Date.now()) return cached.state;
    const look = LABEL_LOOK[label] ?? { color: '#6699cc', description: 'TestKase defect priority' };
    let state: LabelState;
    try {
      await gitlab.labels.create(gitlabProjectId, { name: label, ...look });
      this.metrics.gitlabWrites.inc({ kind: 'label_create' });
      state = 'exists';
    } catch (error) {
      if (!isAppError(error)) throw error;
      const status = (error.details as { status?: number } | undefined)?.status;
      if (status === 409) state = 'exists';
      else if (status === 403 || error.code === 'INSUFFICIENT_ROLE') state = 'forbidden';
      else if (error.code === 'AUTH_FAILED' || error.code === 'TOKEN_EXPIRED' || error.transient) throw error;
      else state = 'unknown';
    }
    this.known.set(key, {
      state,
      until: Date.now() + (state === 'exists' ? KNOWN_TTL_MS : FORBIDDEN_TTL_MS),
    });
    return state;
  }

  /** Forgets what is known of a project's labels (a reconciliation found a label missing or new). */
  forget(gitlab: GitlabClient, gitlabProjectId: number, label: string): void {
    this.known.delete(`${gitlab.instanceUrl}\n${gitlabProjectId}\n${label}`);
  }
}
