import type { SimLabel } from '../../store/models';

export interface LabelCounts {
  open: number;
  closed: number;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  );

/** GitLab picks white or dark text by the background's luminance. */
export function textColorFor(color: string): string {
  const match = /^#([0-9a-f]{6})$/i.exec(color);
  if (!match) return '#FFFFFF';
  const value = Number.parseInt(match[1], 16);
  const luminance =
    (0.299 * ((value >> 16) & 255) + 0.587 * ((value >> 8) & 255) + 0.114 * (value & 255)) / 255;
  return luminance > 0.5 ? '#1F1E24' : '#FFFFFF';
}

/** `Entities::ProjectLabel` (fixtures api-label-create.json, api-labels-list.json). */
export function presentLabel(label: SimLabel, counts: LabelCounts): Record<string, unknown> {
  return {
    id: label.id,
    name: label.title,
    color: label.color,
    text_color: textColorFor(label.color),
    description: label.description,
    description_html: label.description === null ? null : escapeHtml(label.description),
    open_issues_count: counts.open,
    closed_issues_count: counts.closed,
    open_merge_requests_count: 0,
    subscribed: false,
    priority: label.priority,
    is_project_label: label.projectId !== null,
    archived: label.archived,
  };
}
