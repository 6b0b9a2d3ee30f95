import type { FastifyReply, FastifyRequest } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';
import type { IssueWriteRights } from '../domain/issue.service';
import { Permissions, viewerFor, type Viewer } from '../domain/permissions';
import type { Simulator } from '../simulator';
import { REST_ISSUE_TYPES, type SimIssue, type SimProject, type SimUser } from '../store/models';
import type { EventContext } from '../webhooks/webhook.service';
import type { Caller, RouteAuth } from './auth';
import { pathInt } from './params';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** GitLab API routes: who may call (see api/auth.ts). */
    auth?: RouteAuth;
  }
}

export interface ProjectAccess {
  project: SimProject;
  viewer: Viewer;
}

/** `find_project!`: by id or URL-encoded path; a project the caller may not see does not exist. */
export function loadProject(sim: Simulator, request: FastifyRequest, ref: string): ProjectAccess {
  const project = sim.store.projectByRef(ref);
  if (!project) throw GitlabError.notFound('Project');
  const viewer = viewerFor(sim.store, project, request.caller.user);
  if (!Permissions.readProject(project, viewer)) throw GitlabError.notFound('Project');
  return { project, viewer };
}

/** Issue routes answer 403 when the project has issues turned off. */
export function requireIssuesEnabled(project: SimProject): void {
  if (!project.issuesEnabled) throw GitlabError.forbidden();
}

/**
 * An archived project is read-only: ProjectPolicy's `rule { archived }` prevents creating,
 * updating, administering and destroying issues, notes and labels (ArchivedAbilities), so those
 * writes answer `403 Forbidden` (docs/GITLAB.md, "Errors and status codes").
 */
export function requireNotArchived(project: SimProject): void {
  if (project.archived) throw GitlabError.forbidden();
}

/**
 * `find_project_issue`: by iid among the types the issues API serves; an issue the caller may not
 * read is a `RecordNotFound` (`404 Not found`) on issue routes and `404 Issue Not Found` on note routes.
 */
export function loadIssue(
  sim: Simulator,
  access: ProjectAccess,
  iidParam: string,
  notFoundResource?: string,
): SimIssue {
  const iid = pathInt(iidParam, notFoundResource ? 'noteable_id' : 'issue_iid');
  const issue = sim.store.issuesOf(access.project.id).byIid.get(iid);
  if (!issue || !REST_ISSUE_TYPES.includes(issue.type) || !Permissions.readIssue(issue, access.viewer)) {
    throw GitlabError.notFound(notFoundResource);
  }
  return issue;
}

export function requireUser(request: FastifyRequest): SimUser {
  const user = request.caller.user;
  if (!user) throw GitlabError.unauthorized();
  return user;
}

/** What the caller's role lets an issue write do (see IssueWriteRights). */
export function issueRights(project: SimProject, viewer: Viewer, issue?: SimIssue): IssueWriteRights {
  const setMetadata = Permissions.setIssueMetadata(viewer);
  return {
    setMetadata,
    createLabels: Permissions.adminLabels(viewer) && !project.labelCreationForbidden,
    update: issue ? Permissions.updateIssue(issue, viewer) : true,
  };
}

/** The actor of a write, carrying X-Gitlab-Event-UUID through (GitLab's webhook recursion detection). */
export function eventContext(request: FastifyRequest, actor: SimUser): EventContext {
  const header = request.headers['x-gitlab-event-uuid'];
  return { actor, eventUuid: typeof header === 'string' && header ? header : undefined };
}

const OPEN_BRACKET = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE_BRACKET = Buffer.from(']');

/**
 * Writes a JSON array from pre-serialised elements straight to the socket (one writev, no
 * concatenation): a page of 100 issues is ~200 KB, and copying it would cost more than the rest
 * of the request. Fastify's remaining hooks are skipped, so the request is counted here. A
 * request with an after-fault takes the ordinary path instead, since the fault acts in onSend.
 */
export function sendJsonArrayParts(
  sim: Simulator,
  request: FastifyRequest,
  reply: FastifyReply,
  parts: readonly Buffer[],
): FastifyReply {
  if (request.afterFault) {
    const body = Buffer.concat([
      OPEN_BRACKET,
      ...parts.flatMap((part, index) => (index > 0 ? [COMMA, part] : [part])),
      CLOSE_BRACKET,
    ]);
    return reply.type('application/json; charset=utf-8').send(body);
  }
  let length = 2 + Math.max(0, parts.length - 1);
  for (const part of parts) length += part.length;
  reply.hijack();
  const raw = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders()))
    if (value !== undefined) raw.setHeader(name, value);
  raw.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': length });
  raw.cork();
  raw.write(OPEN_BRACKET);
  parts.forEach((part, index) => {
    if (index > 0) raw.write(COMMA);
    raw.write(part);
  });
  raw.end(CLOSE_BRACKET);
  sim.metrics.httpRequests.inc({
    method: request.method,
    route: request.routeOptions.url ?? 'unmatched',
    status: '200',
  });
  return reply;
}
