import {
  defectMarker,
  GITLAB_DESCRIPTION_MAX_CHARS,
  htmlToMarkdown,
  inlineText,
  markdownLink,
  neutraliseQuickActions,
  normaliseUntrustedText,
  truncateUtf8,
} from '@testkase/sync-rules';

export { inlineText };

/** GitLab validates issue titles at 255 characters (docs/GITLAB.md, "Issues (REST)"). */
export const GITLAB_TITLE_MAX_CHARS = 255;
/** GitLab validates descriptions at 1 MiB of UTF-8 (docs/GITLAB.md, "Issues (REST)"). */
export const GITLAB_DESCRIPTION_MAX_BYTES = 1_048_576;

/** Where the test run that found the defect is, as TestKase sends it with a push. */
export interface ExecutionContext {
  readonly testCaseKey?: string;
  readonly testCaseTitle?: string;
  readonly testCaseUrl?: string;
  readonly cycle?: string;
  readonly executionUrl?: string;
  readonly failedStep?: string;
}

/** What the issue's description is built from. */
export interface IssueContentInput {
  readonly defectId: string;
  /** TestKase's full title (the issue's may be shortened). */
  readonly title: string;
  /** The defect's description as GitLab Markdown. */
  readonly description: string;
  /** The defect in TestKase. */
  readonly url: string;
  readonly context: ExecutionContext | null;
}

const TITLE_MARK = '<!-- testkase:title -->';
const FOOTER_MARK = '<!-- testkase:footer -->';
const MARKER = /<!--\s*testkase\s*:\s*defect\s*:\s*([A-Za-z0-9_.:-]{1,128})\s*-->/i;

const codePoints = (text: string): number => {
  let count = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff) index += 1;
    count += 1;
  }
  return count;
};

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

const link = markdownLink;

/** The issue's title: TestKase's, shortened with an ellipsis to GitLab's 255 characters. */
export function issueTitle(title: string): string {
  const clean = normaliseUntrustedText(title, 100_000).replace(/\s+/g, ' ').trim();
  if (codePoints(clean) <= GITLAB_TITLE_MAX_CHARS) return clean;
  return `${normaliseUntrustedText(clean, GITLAB_TITLE_MAX_CHARS - 1).trimEnd()}…`;
}

/** TestKase rich text (HTML) or Markdown as the GitLab Markdown of a description, quick actions neutralised. */
export function descriptionMarkdown(description: string, format: 'html' | 'markdown'): string {
  if (format === 'html') return htmlToMarkdown(description);
  return neutraliseQuickActions(normaliseUntrustedText(description, 4 * GITLAB_DESCRIPTION_MAX_CHARS)).trim();
}

/** The short block that says where the defect was found. */
export function contextBlock(context: ExecutionContext | null): string {
  if (!context) return '';
  const lines: string[] = [];
  if (context.testCaseKey || context.testCaseTitle) {
    const name = [context.testCaseKey, context.testCaseTitle]
      .filter((part): part is string => Boolean(part))
      .map((part) => inlineText(part))
      .join(' ');
    lines.push(`- Test case: ${link(name, context.testCaseUrl)}`);
  }
  if (context.cycle) lines.push(`- Cycle: ${inlineText(context.cycle)}`);
  if (context.executionUrl) lines.push(`- Execution: ${link('open the test run', context.executionUrl)}`);
  if (context.failedStep) lines.push(`- Failed step: ${inlineText(context.failedStep, 2_000)}`);
  return lines.length === 0 ? '' : `**Found while testing in TestKase**\n\n${lines.join('\n')}`;
}

function footer(input: IssueContentInput): string {
  const parts = [
    contextBlock(input.context),
    link(`View defect ${inlineText(input.defectId)} in TestKase`, input.url),
  ];
  return `${FOOTER_MARK}\n---\n\n${parts.filter(Boolean).join('\n\n')}\n\n${defectMarker(input.defectId)}`;
}

/**
 * The issue description defect-sync writes: the full title first when GitLab's limit shortened it,
 * the defect's description, then the execution context, the link back to the defect and the hidden
 * marker. A description over GitLab's 1 MiB is cut with a note that links to the defect; the block
 * after it always survives whole.
 */
export function issueDescription(input: IssueContentInput): string {
  const head =
    issueTitle(input.title) === normaliseUntrustedText(input.title, 100_000).replace(/\s+/g, ' ').trim()
      ? ''
      : `**${inlineText(input.title, 100_000)}** ${TITLE_MARK}\n\n`;
  const tail = `\n\n${footer(input)}`;
  const room = GITLAB_DESCRIPTION_MAX_BYTES - utf8Bytes(head) - utf8Bytes(tail);
  let body = input.description;
  if (utf8Bytes(body) > room) {
    const note = `\n\n_The description is longer than GitLab allows and was cut here: ${link(
      'read all of it in TestKase',
      input.url,
    )}._`;
    body = `${truncateUtf8(body, room - utf8Bytes(note)).trimEnd()}${note}`;
  }
  return `${head}${body}${tail}`;
}

/** The defect id of the marker in an issue description, or null. */
export const markerOf = (description: string): string | null => MARKER.exec(description)?.[1] ?? null;

/**
 * The part of an issue description that is the defect's own description: without the full-title
 * line and the block defect-sync adds (from its start mark, or failing that the marker, to the end).
 */
export function userDescriptionOf(description: string): string {
  let text = description.replace(/\r\n?/g, '\n');
  const firstLineEnd = text.indexOf('\n');
  const firstLine = firstLineEnd === -1 ? text : text.slice(0, firstLineEnd);
  if (firstLine.trimEnd().endsWith(TITLE_MARK))
    text = firstLineEnd === -1 ? '' : text.slice(firstLineEnd + 1);
  const footerAt = text.lastIndexOf(FOOTER_MARK);
  if (footerAt !== -1) text = text.slice(0, footerAt);
  else {
    const marker = MARKER.exec(text);
    if (marker) text = text.slice(0, marker.index);
  }
  return text.trim();
}

/** Whether the description still carries defect-sync's block for this defect (someone may have deleted it). */
export const hasOurBlock = (description: string, defectId: string): boolean =>
  description.includes(FOOTER_MARK) && markerOf(description) === defectId;

/** Two descriptions that differ only in line endings and trailing blanks (GitLab may normalise them). */
export const sameDescription = (left: string, right: string): boolean =>
  left
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+$/gm, '')
    .trim() ===
  right
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+$/gm, '')
    .trim();
