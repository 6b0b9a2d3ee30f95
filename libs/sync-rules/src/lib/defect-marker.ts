import { ValidationError } from '@testkase/util';

const DEFECT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

// Tolerates the spacing a human edit may leave ("<!--testkase:defect: d-1 -->"); the id itself has no spaces.
const DEFECT_MARKER = /<!--\s*testkase\s*:\s*defect\s*:\s*([A-Za-z0-9_.:-]{1,128})\s*-->/i;

/**
 * The hidden HTML comment that marks a GitLab issue as the copy of a TestKase defect, so the issue
 * is never imported back as a requirement and a second push finds it instead of creating another.
 */
export const defectMarker = (defectId: string): string => {
  if (!DEFECT_ID.test(defectId)) {
    throw new ValidationError(
      'A defect id must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-".',
      {
        field: 'defectId',
      },
    );
  }
  return `<!-- testkase:defect:${defectId} -->`;
};

/** The defect id of the first defect marker in an issue description, or null when there is none. */
export const findDefectMarker = (description: string | null | undefined): string | null => {
  if (typeof description !== 'string') return null;
  return DEFECT_MARKER.exec(description)?.[1] ?? null;
};
