import type { FastifyInstance } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';
import { Permissions } from '../domain/permissions';
import type { Simulator } from '../simulator';
import type { SimNote } from '../store/models';
import { paginate } from './pagination';
import { optionalBool, optionalEnum, optionalTime, pathInt, requestParams, requiredString } from './params';
import { presentNote, presentNoteCommands } from './presenters/note.presenter';
import { APPLICATION_RATE_LIMIT_BODY } from './rate-limiter';
import {
  eventContext,
  issueRights,
  loadIssue,
  loadProject,
  requireIssuesEnabled,
  requireNotArchived,
  requireUser,
} from './route-helpers';

interface IssueParams {
  id: string;
  issue_iid: string;
}
interface NoteParams extends IssueParams {
  note_id: string;
}

/** Notes on issues: newest first by default, system notes included, internal notes for Planner+ and their authors. */
export function registerNoteRoutes(app: FastifyInstance, sim: Simulator): void {
  const { store, urls } = sim;

  const loadNote = (issueId: number, noteIdParam: string): SimNote => {
    const noteId = pathInt(noteIdParam, 'note_id');
    const note = store.notes.get(noteId);
    if (!note || note.issueId !== issueId) throw GitlabError.notFound();
    return note;
  };

  app.get<{ Params: IssueParams }>(
    '/projects/:id/issues/:issue_iid/notes',
    { schema: { tags: ['notes'], summary: 'List the notes of an issue (sort desc by default)' } },
    async (request, reply) => {
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      const issue = loadIssue(sim, access, request.params.issue_iid, 'Issue');
      const params = requestParams(request);
      const sort = optionalEnum(params, 'sort', ['asc', 'desc'] as const) ?? 'desc';
      const orderBy = optionalEnum(params, 'order_by', ['created_at', 'updated_at'] as const) ?? 'created_at';
      const direction = sort === 'asc' ? 1 : -1;
      const notes = (store.notesByIssue.get(issue.id) ?? [])
        .filter((note) => Permissions.readNote(note, access.viewer))
        .sort((a, b) => {
          const left = orderBy === 'created_at' ? a.createdAt : a.updatedAt;
          const right = orderBy === 'created_at' ? b.createdAt : b.updatedAt;
          return (left - right || a.id - b.id) * direction;
        });
      return paginate(reply, request, urls, params, notes).map((note) =>
        presentNote(note, issue, store, urls),
      );
    },
  );

  app.get<{ Params: NoteParams }>(
    '/projects/:id/issues/:issue_iid/notes/:note_id',
    { schema: { tags: ['notes'], summary: 'One note' } },
    async (request) => {
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      const issue = loadIssue(sim, access, request.params.issue_iid, 'Issue');
      const note = loadNote(issue.id, request.params.note_id);
      if (!Permissions.readNote(note, access.viewer)) throw GitlabError.notFound('Note');
      return presentNote(note, issue, store, urls);
    },
  );

  app.post<{ Params: IssueParams }>(
    '/projects/:id/issues/:issue_iid/notes',
    { schema: { tags: ['notes'], summary: 'Add a note; a body of only quick actions answers 202' } },
    async (request, reply) => {
      const user = requireUser(request);
      const params = requestParams(request);
      const body = requiredString(params, 'body', false);
      const internal = optionalBool(params, 'internal') ?? optionalBool(params, 'confidential') ?? false;
      const access = loadProject(sim, request, request.params.id);
      const { project, viewer } = access;
      requireIssuesEnabled(project);
      const issue = loadIssue(sim, access, request.params.issue_iid, 'Issue');
      requireNotArchived(project);
      if (!Permissions.createNote(issue, viewer)) throw GitlabError.forbidden();
      if (internal && !Permissions.createInternalNote(viewer)) throw GitlabError.forbidden();
      const limit = sim.settings.rateLimits.noteCreatesPerMinute;
      if (limit !== null) {
        const decision = sim.rateLimiter.hit(`notes_create:${user.id}`, limit);
        if (!decision.allowed)
          throw new GitlabError(429, APPLICATION_RATE_LIMIT_BODY, {
            'Retry-After': String(decision.retryAfter),
          });
      }
      const createdAt = viewer.admin || viewer.level >= 50 ? optionalTime(params, 'created_at') : undefined;
      const result = sim.notes.create(
        eventContext(request, user),
        project,
        issue,
        { body, internal, createdAt },
        issueRights(project, viewer, issue),
      );
      if (result.kind === 'commands') {
        reply.code(202);
        return presentNoteCommands(result.commands.changes, result.commands.summary);
      }
      reply.code(201);
      return presentNote(result.note, issue, store, urls);
    },
  );

  app.put<{ Params: NoteParams }>(
    '/projects/:id/issues/:issue_iid/notes/:note_id',
    { schema: { tags: ['notes'], summary: 'Edit a note (its author only)' } },
    async (request) => {
      const user = requireUser(request);
      const params = requestParams(request);
      const body = requiredString(params, 'body', false);
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      const issue = loadIssue(sim, access, request.params.issue_iid, 'Issue');
      const note = loadNote(issue.id, request.params.note_id);
      if (!Permissions.readNote(note, access.viewer)) throw GitlabError.notFound('Note');
      requireNotArchived(access.project);
      if (note.system || !Permissions.updateNote(note, access.viewer)) throw GitlabError.forbidden();
      sim.notes.update(eventContext(request, user), access.project, issue, note, body);
      return presentNote(note, issue, store, urls);
    },
  );

  app.delete<{ Params: NoteParams }>(
    '/projects/:id/issues/:issue_iid/notes/:note_id',
    { schema: { tags: ['notes'], summary: 'Delete a note (no webhook is sent)' } },
    async (request, reply) => {
      requireUser(request);
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      const issue = loadIssue(sim, access, request.params.issue_iid, 'Issue');
      const note = loadNote(issue.id, request.params.note_id);
      if (!Permissions.readNote(note, access.viewer)) throw GitlabError.notFound('Note');
      requireNotArchived(access.project);
      if (!Permissions.deleteNote(note, access.viewer)) throw GitlabError.forbidden();
      sim.notes.delete(issue, note);
      return reply.code(204).send();
    },
  );
}
