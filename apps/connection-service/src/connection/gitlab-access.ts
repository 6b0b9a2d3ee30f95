/** GitLab access levels (members API) and what this integration can do at each. */
export const ACCESS_LEVELS = {
  none: 0,
  minimal: 5,
  guest: 10,
  planner: 15,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
  admin: 60,
} as const;

/** Reporter may create issues and notes: the least a connection needs. */
export const MINIMUM_ACCESS_LEVEL = ACCESS_LEVELS.reporter;
/** Maintainer may manage project hooks: below it, the hook is set up by hand (webhook_manual). */
export const HOOK_MANAGEMENT_ACCESS_LEVEL = ACCESS_LEVELS.maintainer;

const NAMES: ReadonlyArray<readonly [number, string]> = [
  [ACCESS_LEVELS.admin, 'Admin'],
  [ACCESS_LEVELS.owner, 'Owner'],
  [ACCESS_LEVELS.maintainer, 'Maintainer'],
  [ACCESS_LEVELS.developer, 'Developer'],
  [ACCESS_LEVELS.reporter, 'Reporter'],
  [ACCESS_LEVELS.planner, 'Planner'],
  [ACCESS_LEVELS.guest, 'Guest'],
  [ACCESS_LEVELS.minimal, 'Minimal Access'],
];

/** `40` → `Maintainer`; levels between the named ones take the name of the one below. */
export function roleName(accessLevel: number): string {
  return NAMES.find(([level]) => accessLevel >= level)?.[1] ?? 'No access';
}

/** The hook events the integration subscribes to: GitLab's API flag and the label in its UI. */
export const HOOK_EVENTS = [
  { flag: 'issues_events', label: 'Issues events' },
  { flag: 'confidential_issues_events', label: 'Confidential issues events' },
  { flag: 'note_events', label: 'Comments' },
  { flag: 'confidential_note_events', label: 'Confidential comments' },
] as const;

/** The hook's event flags as sent to GitLab: ours on, everything GitLab turns on by default off. */
export const HOOK_EVENT_FLAGS = {
  issues_events: true,
  confidential_issues_events: true,
  note_events: true,
  confidential_note_events: true,
  push_events: false,
  merge_requests_events: false,
  tag_push_events: false,
} as const;

/** `$PUBLIC_WEBHOOK_BASE_URL/webhooks/gitlab/:connectionId` */
export const hookUrlFor = (publicBaseUrl: string, connectionId: string): string =>
  `${publicBaseUrl}/webhooks/gitlab/${connectionId}`;
