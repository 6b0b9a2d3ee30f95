import type { Viewer } from '../../domain/permissions';
import { isoMs } from '../../domain/time-format';
import type { SimUrls } from '../../domain/urls';
import type { SimGroup, SimProject } from '../../store/models';

/** `GET /projects/:id`: the fields integrations read, in GitLab's shape (doc/api/projects.md). */
export function presentProject(
  project: SimProject,
  namespace: SimGroup | undefined,
  viewer: Viewer,
  projectAccessLevel: number | null,
  groupAccessLevel: number | null,
  openIssuesCount: number,
  urls: SimUrls,
): Record<string, unknown> {
  const webUrl = urls.project(project);
  const apiUrl = urls.api(`/projects/${project.id}`);
  const entity: Record<string, unknown> = {
    id: project.id,
    description: project.description,
    name: project.name,
    name_with_namespace: namespace ? `${namespace.name} / ${project.name}` : project.name,
    path: project.path,
    path_with_namespace: project.pathWithNamespace,
    created_at: isoMs(project.createdAt),
    default_branch: project.defaultBranch,
    tag_list: [],
    topics: [],
    ssh_url_to_repo: urls.gitSsh(project),
    http_url_to_repo: urls.gitHttp(project),
    web_url: webUrl,
    readme_url: null,
    forks_count: 0,
    avatar_url: null,
    star_count: 0,
    last_activity_at: isoMs(project.lastActivityAt),
    visibility: project.visibility,
    namespace: namespace
      ? {
          id: namespace.id,
          name: namespace.name,
          path: namespace.path,
          kind: 'group',
          full_path: namespace.fullPath,
          parent_id: namespace.parentId,
          avatar_url: null,
          web_url: `${urls.baseUrl}/groups/${namespace.fullPath}`,
        }
      : null,
    container_registry_image_prefix: `registry.${new URL(urls.baseUrl).hostname}/${project.pathWithNamespace}`,
    _links: {
      self: apiUrl,
      issues: `${apiUrl}/issues`,
      merge_requests: `${apiUrl}/merge_requests`,
      repo_branches: `${apiUrl}/repository/branches`,
      labels: `${apiUrl}/labels`,
      events: `${apiUrl}/events`,
      members: `${apiUrl}/members`,
      cluster_agents: `${apiUrl}/cluster_agents`,
    },
    empty_repo: false,
    archived: project.archived,
    issues_enabled: project.issuesEnabled,
    merge_requests_enabled: true,
    wiki_enabled: true,
    jobs_enabled: true,
    snippets_enabled: true,
    issues_access_level: project.issuesEnabled ? 'enabled' : 'disabled',
    open_issues_count: openIssuesCount,
    creator_id: 1,
    import_status: 'none',
    description_html: project.description ?? '',
    updated_at: isoMs(project.lastActivityAt),
    permissions: {
      project_access:
        projectAccessLevel === null ? null : { access_level: projectAccessLevel, notification_level: 3 },
      group_access:
        groupAccessLevel === null ? null : { access_level: groupAccessLevel, notification_level: 3 },
    },
  };
  if (viewer.user === null) delete entity['permissions'];
  return entity;
}
