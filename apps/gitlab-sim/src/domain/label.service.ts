import type { SimLabel, SimProject } from '../store/models';
import type { SimStore } from '../store/sim-store';
import { GitlabError } from './gitlab-error';

/** `Label::DEFAULT_COLOR`, used for labels created implicitly through issues. */
export const DEFAULT_LABEL_COLOR = '#6699cc';

const CSS_COLORS: Record<string, string> = {
  black: '#000000',
  white: '#FFFFFF',
  red: '#FF0000',
  green: '#008000',
  blue: '#0000FF',
  yellow: '#FFFF00',
  orange: '#FFA500',
  purple: '#800080',
  gray: '#808080',
  grey: '#808080',
  pink: '#FFC0CB',
  brown: '#A52A2A',
  navy: '#000080',
  teal: '#008080',
  maroon: '#800000',
  olive: '#808000',
  lime: '#00FF00',
  aqua: '#00FFFF',
  cyan: '#00FFFF',
  magenta: '#FF00FF',
  fuchsia: '#FF00FF',
  silver: '#C0C0C0',
  gold: '#FFD700',
  indigo: '#4B0082',
  violet: '#EE82EE',
};

/** `#RGB`, `#RRGGBB` or a CSS colour name → `#RRGGBB`; undefined when it is none of these. */
export function normaliseColor(color: string): string | undefined {
  const value = color.trim();
  if (/^#[0-9a-f]{6}$/i.test(value)) return value;
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(value);
  if (short) return `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}`;
  return CSS_COLORS[value.toLowerCase()];
}

/** Label titles: no commas, at most 255 characters, surrounding whitespace stripped (app/models/label.rb). */
export function validateLabelTitle(title: string): string[] {
  const problems: string[] = [];
  if (title.length === 0) problems.push("can't be blank");
  if (title.includes(',')) problems.push('is invalid');
  if (title.length > 255) problems.push('is too long (maximum is 255 characters)');
  return problems;
}

export interface LabelInput {
  name: string;
  color: string;
  description?: string | null;
  priority?: number | null;
  archived?: boolean;
}

export class LabelService {
  constructor(private readonly store: SimStore) {}

  private build(
    project: SimProject | null,
    groupId: number | null,
    title: string,
    color: string,
    description: string | null,
    priority: number | null,
  ): SimLabel {
    const now = this.store.clock.now();
    return {
      id: this.store.nextId('label'),
      title,
      color,
      description,
      priority,
      projectId: project?.id ?? null,
      groupId,
      archived: false,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** `POST /projects/:id/labels`: 409 when any available label (project or ancestor group) has the title. */
  createProjectLabel(project: SimProject, input: LabelInput): SimLabel {
    const title = input.name.trim();
    const color = normaliseColor(input.color);
    const errors: Record<string, string[]> = {};
    const titleProblems = validateLabelTitle(title);
    if (titleProblems.length > 0) errors['title'] = titleProblems;
    if (!color) errors['color'] = ['must be a valid color code'];
    if (!color || Object.keys(errors).length > 0) throw GitlabError.validation(errors);
    if (this.store.findAvailableLabel(project, title)) throw GitlabError.conflict('Label already exists');
    const label = this.build(project, null, title, color, input.description ?? null, input.priority ?? null);
    label.archived = input.archived ?? false;
    this.store.addLabel(label);
    return label;
  }

  createGroupLabel(groupId: number, input: LabelInput): SimLabel {
    const title = input.name.trim();
    const color = normaliseColor(input.color) ?? DEFAULT_LABEL_COLOR;
    if (this.store.groupLabels.get(groupId)?.has(title)) throw GitlabError.conflict('Label already exists');
    const label = this.build(null, groupId, title, color, input.description ?? null, input.priority ?? null);
    this.store.addLabel(label);
    return label;
  }

  /**
   * Titles → label ids for an issue (`Labels::FindOrCreateService`): existing labels are used;
   * a missing one is created as a project label when the actor may create labels, and otherwise
   * silently skipped, as GitLab does.
   */
  resolveTitles(project: SimProject, titles: readonly string[], mayCreate: boolean): number[] {
    const ids: number[] = [];
    for (const raw of titles) {
      const title = raw.trim();
      if (!title || title.includes(',') || title.length > 255) continue;
      let label = this.store.findAvailableLabel(project, title);
      if (!label && mayCreate && !project.labelCreationForbidden) {
        label = this.build(project, null, title, DEFAULT_LABEL_COLOR, null, null);
        this.store.addLabel(label);
      }
      if (label && !ids.includes(label.id)) ids.push(label.id);
    }
    return ids;
  }

  /** Existing labels only (quick actions never create labels). */
  findTitles(project: SimProject, titles: readonly string[]): number[] {
    const ids: number[] = [];
    for (const title of titles) {
      const label = this.store.findAvailableLabel(project, title.trim());
      if (label && !ids.includes(label.id)) ids.push(label.id);
    }
    return ids;
  }

  /** Open/closed issue counts per label of a project (computed on demand). */
  counts(project: SimProject): Map<number, { open: number; closed: number }> {
    const counts = new Map<number, { open: number; closed: number }>();
    for (const issue of this.store.issuesOf(project.id).byCreatedAt) {
      for (const id of issue.labelIds) {
        let entry = counts.get(id);
        if (!entry) {
          entry = { open: 0, closed: 0 };
          counts.set(id, entry);
        }
        if (issue.state === 'opened') entry.open += 1;
        else entry.closed += 1;
      }
    }
    return counts;
  }
}
