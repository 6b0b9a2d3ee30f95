/**
 * The timestamp formats GitLab mixes across its surfaces (docs/GITLAB.md, "Issues (REST)" and
 * "Issue and work item events").
 */

/** REST: `2016-01-04T15:31:51.081Z`. */
export const isoMs = (epochMs: number): string => new Date(epochMs).toISOString();

/** Issue webhook attributes: `2013-12-03T17:15:43Z`. */
export const isoSeconds = (epochMs: number): string =>
  new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Note payloads, `changes` and the 2018 generation: `2015-05-17 17:06:40 UTC`. */
export const utcText = (epochMs: number): string => {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
};

export const nullableTime = (epochMs: number | null, format: (epochMs: number) => string): string | null =>
  epochMs === null ? null : format(epochMs);

/** `YYYY-MM-DD` of a moment, in UTC. */
export const isoDate = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);
