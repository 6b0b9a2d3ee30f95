/** What a requirement must look like for a simulator issue, computed independently of the service's mapping. */
export interface SimIssueState {
  iid: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  type: string;
  confidential: boolean;
  labels: string[];
  updatedAt: number;
  createdAt: number;
}

const PRIORITY_RANK: Record<string, { rank: number; priority: string }> = {
  'priority::critical': { rank: 0, priority: 'P0' },
  'priority::high': { rank: 1, priority: 'P1' },
  'priority::medium': { rank: 2, priority: 'P2' },
  'priority::low': { rank: 3, priority: 'P3' },
};

export function expectedPriority(labels: readonly string[]): string {
  const best = labels
    .map((label) => PRIORITY_RANK[label])
    .filter((entry) => entry !== undefined)
    .sort((a, b) => a.rank - b.rank)[0];
  return best?.priority ?? 'P2';
}

export function expectedFields(issue: SimIssueState, projectWebUrl: string) {
  return {
    title: issue.title,
    descriptionMarkdown: issue.description ?? '',
    labels: [...new Set(issue.labels)].sort(),
    priority: expectedPriority(issue.labels),
    status: issue.state === 'opened' ? 'Active' : 'Deprecated',
    confidential: issue.confidential,
    webUrl: `${projectWebUrl}/-/issues/${issue.iid}`,
    gitlabUpdatedAt: new Date(issue.updatedAt).toISOString(),
    gitlabCreatedAt: new Date(issue.createdAt).toISOString(),
  };
}
