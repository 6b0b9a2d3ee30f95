import { normaliseInstanceUrl } from '@testkase/consumer-kit';

/** Where a moved issue went, as far as GitLab tells (columns `moved_to_*` of a requirement). */
export interface MovedToLink {
  readonly iid: number;
  readonly webUrl: string;
}

/** `SystemNoteService.noteable_moved`: `moved to <reference>` (docs/GITLAB.md, "Moved, deleted and retyped issues"). */
const MOVED_TO = /^moved to ((?:[\w.-]+\/)*[\w.-]+)?#(\d+)$/;

/**
 * The new issue of a `moved to <reference>` system note on the original. GitLab writes the
 * reference relative to the original's project (`Issue#to_reference(from)`): `project#7` for a
 * project of the same namespace, `group/project#7` from elsewhere (`#7` would be the same project,
 * which a move never is). Null for any other note.
 *
 * @param sourcePath the original's project, `group/sub/project`
 * @param instanceUrl the instance base URL (with a relative root such as `/gitlab` if any)
 */
export function movedToFromNote(body: string, sourcePath: string, instanceUrl: string): MovedToLink | null {
  const match = MOVED_TO.exec(body.trim());
  if (!match) return null;
  const [, reference, iidText] = match;
  const iid = Number(iidText);
  if (!Number.isSafeInteger(iid) || iid < 1) return null;
  const namespace = sourcePath.includes('/') ? sourcePath.slice(0, sourcePath.lastIndexOf('/')) : '';
  const path =
    reference === undefined
      ? sourcePath
      : reference.includes('/') || namespace === ''
        ? reference
        : `${namespace}/${reference}`;
  return { iid, webUrl: `${normaliseInstanceUrl(instanceUrl)}/${path}/-/issues/${iid}` };
}
