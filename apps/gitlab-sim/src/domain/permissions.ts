import { ACCESS_LEVELS, type SimIssue, type SimNote, type SimProject, type SimUser } from '../store/models';
import type { SimStore } from '../store/sim-store';

/**
 * Who is asking, and with which role in the project at hand. Built once per request and
 * project. Rules follow GitLab's permissions table: Guest creates issues and comments,
 * Planner/Reporter manage labels and issue metadata, Maintainer manages hooks, Owner deletes
 * issues, and private projects do not exist for non-members.
 */
export interface Viewer {
  user: SimUser | null;
  /** Effective access level (0 for non-members and anonymous users). */
  level: number;
  admin: boolean;
}

export function viewerFor(store: SimStore, project: SimProject, user: SimUser | null): Viewer {
  return { user, level: store.accessLevel(project, user), admin: user?.admin ?? false };
}

export const Permissions = {
  readProject(project: SimProject, viewer: Viewer): boolean {
    if (viewer.admin || viewer.level >= ACCESS_LEVELS.guest) return true;
    if (project.visibility === 'public') return true;
    return project.visibility === 'internal' && viewer.user !== null;
  },

  /** Confidential issues: Planner and above, the author and the assignees. */
  readIssue(issue: SimIssue, viewer: Viewer): boolean {
    if (!issue.confidential) return true;
    if (viewer.admin || viewer.level >= ACCESS_LEVELS.planner) return true;
    const userId = viewer.user?.id;
    return userId !== undefined && (issue.authorId === userId || issue.assigneeIds.includes(userId));
  },

  /** Any signed-in user who can see the project may open an issue in it. */
  createIssue(project: SimProject, viewer: Viewer): boolean {
    return viewer.user !== null && Permissions.readProject(project, viewer);
  },

  /** Labels, assignees, due dates… set by Planner and above; silently ignored for others. */
  setIssueMetadata(viewer: Viewer): boolean {
    return viewer.admin || viewer.level >= ACCESS_LEVELS.planner;
  },

  updateIssue(issue: SimIssue, viewer: Viewer): boolean {
    if (viewer.admin || viewer.level >= ACCESS_LEVELS.planner) return true;
    return viewer.user !== null && issue.authorId === viewer.user.id;
  },

  deleteIssue(viewer: Viewer): boolean {
    return viewer.admin || viewer.level >= ACCESS_LEVELS.owner;
  },

  createNote(issue: SimIssue, viewer: Viewer): boolean {
    if (viewer.user === null) return false;
    if (issue.discussionLocked) return viewer.admin || viewer.level >= ACCESS_LEVELS.reporter;
    return true;
  },

  createInternalNote(viewer: Viewer): boolean {
    return viewer.admin || viewer.level >= ACCESS_LEVELS.planner;
  },

  readNote(note: SimNote, viewer: Viewer): boolean {
    if (!note.internal) return true;
    if (viewer.admin || viewer.level >= ACCESS_LEVELS.planner) return true;
    return viewer.user !== null && note.authorId === viewer.user.id;
  },

  /** Only the author edits a comment. */
  updateNote(note: SimNote, viewer: Viewer): boolean {
    return viewer.user !== null && (note.authorId === viewer.user.id || viewer.admin);
  },

  deleteNote(note: SimNote, viewer: Viewer): boolean {
    if (viewer.admin || viewer.level >= ACCESS_LEVELS.maintainer) return true;
    return viewer.user !== null && note.authorId === viewer.user.id;
  },

  adminLabels(viewer: Viewer): boolean {
    return viewer.admin || viewer.level >= ACCESS_LEVELS.planner;
  },

  adminHooks(viewer: Viewer): boolean {
    return viewer.admin || viewer.level >= ACCESS_LEVELS.maintainer;
  },
};
