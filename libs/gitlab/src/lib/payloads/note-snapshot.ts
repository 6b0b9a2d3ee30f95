/** The author of a note, as far as the payload names them. */
export interface NoteAuthor {
  readonly id: number | null;
  readonly username: string | null;
  readonly name: string | null;
}

/**
 * One comment on an issue as GitLab showed it at `updatedAt`, from the REST API or a Note Hook
 * (docs/GITLAB.md, "Note events", "Notes (REST)").
 */
export interface NoteSnapshot {
  readonly noteId: number;
  /** Markdown, as the author wrote it (the hook's `description` copy with absolute image URLs is not used). */
  readonly body: string;
  readonly authorId: number | null;
  /**
   * Webhooks: the top-level `user` when its id is `author_id` (for an edit, `user` is the editor,
   * so another user yields only the id); null when the payload has no `author_id`. REST: `author`.
   */
  readonly author: NoteAuthor | null;
  /** GitLab's own note (label, state, title changes …); GitLab sends no Note Hook for these. */
  readonly system: boolean;
  /** An internal (formerly "confidential") note, visible to Reporter and up only. */
  readonly internal: boolean;
  readonly issueIid: number;
  /** GitLab's global issue id (`noteable_id`), when the payload gave it. */
  readonly issueId: number | null;
  /** The issue's confidentiality, when the payload gave it (REST notes do not). */
  readonly issueConfidential: boolean | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Whether `updatedAt` carries milliseconds (the `… UTC` form of note hooks does not). */
  readonly updatedAtExact: boolean;
  /** The note URL GitLab gave (`…/issues/17#note_1241`), or null. */
  readonly url: string | null;
  /** `object_attributes.action` (GitLab 16.11+); null for older hooks and for REST. */
  readonly action: 'create' | 'update' | null;
  readonly source: 'rest' | 'webhook';
}
