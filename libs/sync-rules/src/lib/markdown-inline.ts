import { normaliseUntrustedText } from './untrusted-text';

/** One line of plain text inside Markdown: no line breaks, Markdown and HTML syntax escaped. */
export function inlineText(text: string, maxChars = 500): string {
  return normaliseUntrustedText(text, maxChars)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_{}[\]()#+!|<>~&]/g, (char) => `\\${char}`);
}

/** A URL as a Markdown link target: only http(s), and nothing that could end the link early. */
export function linkTarget(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  return parsed.href.replace(/[()<> ]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `[text](url)`, or the text alone when the URL is not a safe http(s) link. `text` must be escaped already. */
export const markdownLink = (text: string, url: string | undefined | null): string => {
  const target = url === undefined || url === null ? null : linkTarget(url);
  return target === null ? text : `[${text}](${target})`;
};

/** The longest start of `text` that fits `maxBytes` of UTF-8, never cutting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}
