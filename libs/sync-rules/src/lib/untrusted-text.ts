/// <reference lib="es2024.string" />

/** GitLab's maximum issue description length, in characters. */
export const GITLAB_DESCRIPTION_MAX_CHARS = 1_048_576;

/** Cuts `text` after `maxCodePoints` characters (code points, as GitLab counts), never inside a pair. */
const truncateCodePoints = (text: string, maxCodePoints: number): string => {
  if (text.length <= maxCodePoints) return text;
  let index = 0;
  for (let count = 0; count < maxCodePoints && index < text.length; count += 1) {
    const code = text.charCodeAt(index);
    index += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
  }
  return text.slice(0, index);
};

/**
 * Makes text from outside safe to process: at most `maxChars` characters, well-formed UTF-16 (lone
 * surrogates become U+FFFD) and no NUL characters. null and undefined become ''.
 */
export const normaliseUntrustedText = (text: string | null | undefined, maxChars: number): string => {
  if (typeof text !== 'string') return '';
  // A code point is at most two UTF-16 units: cut first so the later passes stay bounded.
  const bounded = text.length > maxChars * 2 ? text.slice(0, maxChars * 2) : text;
  return truncateCodePoints(bounded.toWellFormed().replaceAll('\0', ''), maxChars);
};
