/**
 * Quick actions in note and description bodies (`/close`, `/label ~bug`): GitLab executes the
 * known commands and removes their lines from the text. Lines inside fenced code blocks and
 * quotes are plain text.
 */
export type QuickAction =
  | { kind: 'close' }
  | { kind: 'reopen' }
  | { kind: 'label'; labels: string[] }
  | { kind: 'unlabel'; labels: string[] }
  | { kind: 'relabel'; labels: string[] }
  | { kind: 'confidential' }
  | { kind: 'title'; title: string }
  | { kind: 'assign'; usernames: string[] }
  | { kind: 'unassign'; usernames: string[] }
  | { kind: 'lock' }
  | { kind: 'unlock' }
  /**
   * `/clone [path/to/project] [--with_notes]`: `path` null clones into the issue's own project;
   * more than one argument besides `--with_notes` is GitLab's "wrong parameters".
   */
  | { kind: 'clone'; path: string | null; withNotes: boolean; wrongParameters: boolean };

export interface ParsedBody {
  actions: QuickAction[];
  /** The body without the command lines, trimmed. */
  text: string;
}

/** `~bug ~"needs review" priority::high` → titles. */
export function parseLabelReferences(args: string): string[] {
  const titles: string[] = [];
  for (const match of args.matchAll(/~"([^"]+)"|~([^\s~"]+)|"([^"]+)"|([^\s~"]+)/g)) {
    const title = (match[1] ?? match[2] ?? match[3] ?? match[4] ?? '').trim();
    if (title) titles.push(title);
  }
  return titles;
}

const parseUsernames = (args: string): string[] =>
  args
    .split(/[\s,]+/)
    .map((name) => name.replace(/^@/, '').trim())
    .filter(Boolean);

function parseLine(line: string): QuickAction | undefined {
  // Only a line that starts with the slash is a command: indenting it makes it text.
  const match = /^\/([a-z_]+)(?:\s+(.*))?$/.exec(line.trimEnd());
  if (!match) return undefined;
  const args = (match[2] ?? '').trim();
  switch (match[1]) {
    case 'close':
      return args ? undefined : { kind: 'close' };
    case 'reopen':
      return args ? undefined : { kind: 'reopen' };
    case 'label':
    case 'labels':
      return args ? { kind: 'label', labels: parseLabelReferences(args) } : undefined;
    case 'unlabel':
    case 'remove_label':
      return { kind: 'unlabel', labels: parseLabelReferences(args) };
    case 'relabel':
      return args ? { kind: 'relabel', labels: parseLabelReferences(args) } : undefined;
    case 'confidential':
      return { kind: 'confidential' };
    case 'title':
      return args ? { kind: 'title', title: args } : undefined;
    case 'assign':
      return args ? { kind: 'assign', usernames: parseUsernames(args) } : undefined;
    case 'unassign':
      return { kind: 'unassign', usernames: parseUsernames(args) };
    case 'lock':
      return { kind: 'lock' };
    case 'unlock':
      return { kind: 'unlock' };
    case 'clone': {
      // IssueActions `command :clone`: split on spaces, take out `--with_notes`, one path at most.
      const words = args.split(/\s+/).filter(Boolean);
      const withNotes = words.includes('--with_notes');
      const rest = words.filter((word) => word !== '--with_notes');
      return { kind: 'clone', path: rest[0] ?? null, withNotes, wrongParameters: rest.length > 1 };
    }
    default:
      return undefined;
  }
}

export function parseQuickActions(body: string): ParsedBody {
  const actions: QuickAction[] = [];
  const kept: string[] = [];
  let inFence = false;
  for (const line of body.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const action = inFence || /^\s*>/.test(line) ? undefined : parseLine(line);
    if (action) actions.push(action);
    else kept.push(line);
  }
  return { actions, text: actions.length > 0 ? kept.join('\n').trim() : body };
}
