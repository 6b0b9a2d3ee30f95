import { createMarkdownParser } from './markdown-parser';

const markdown = createMarkdownParser({ html: true });

const SLASH_COMMAND_LINE = /^([ \t]*)\/(?=[A-Za-z])/;
const COLUMN_ZERO_SLASH_COMMAND = /^\/(?=[A-Za-z])/;
const NEWLINE = /\r\n?|\n/;

type LineKind = 'text' | 'protected-code' | 'code' | 'html';

/**
 * GitLab skips quick actions between a line that starts with exactly ``` and the next line that is
 * exactly ``` (Gitlab::QuickActions::Extractor). Only such a fence protects its lines on GitLab.
 */
const gitlabProtectsFence = (lines: readonly string[], start: number, end: number): boolean =>
  end - start >= 2 && /^```(?!`)/.test(lines[start]) && lines[end - 1] === '```';

const classifyLines = (lines: readonly string[], source: string): LineKind[] => {
  const kinds: LineKind[] = lines.map(() => 'text');
  for (const token of markdown.parse(source, {})) {
    if (token.map === null) continue;
    const [start, end] = token.map;
    let kind: LineKind | null = null;
    if (token.type === 'fence') kind = gitlabProtectsFence(lines, start, end) ? 'protected-code' : 'code';
    else if (token.type === 'code_block') kind = 'code';
    else if (token.type === 'html_block') kind = 'html';
    if (kind === null) continue;
    for (let line = start; line < end && line < lines.length; line += 1) kinds[line] = kind;
  }
  return kinds;
};

const neutraliseLine = (line: string, kind: LineKind): string => {
  switch (kind) {
    case 'text':
      // `\/` is a Markdown escape: GitLab shows "/close" and does not run it.
      return line.replace(SLASH_COMMAND_LINE, '$1\\/');
    case 'html':
      // Inside raw HTML a backslash would show; the entity reads the same and is not a command.
      return line.replace(SLASH_COMMAND_LINE, '$1&#47;');
    case 'code':
      // GitLab runs only commands at column 0; one space keeps the code readable and inert.
      return line.replace(COLUMN_ZERO_SLASH_COMMAND, ' /');
    case 'protected-code':
      return line;
  }
};

/**
 * Escapes every line that GitLab could run as a quick action (`/close`, `/label ~x`, `/assign @me` …)
 * when the Markdown becomes an issue description or a note, so GitLab shows it as text instead.
 * Lines inside a ``` fence that GitLab itself skips stay as they are. Line endings become `\n`.
 */
export const neutraliseQuickActions = (markdownText: string): string => {
  if (!markdownText.includes('/')) return markdownText;
  const lines = markdownText.split(NEWLINE);
  const kinds = classifyLines(lines, markdownText);
  return lines.map((line, index) => neutraliseLine(line, kinds[index])).join('\n');
};
