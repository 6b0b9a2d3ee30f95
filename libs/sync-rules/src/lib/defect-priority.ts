import {
  highestPriorityLabelValue,
  isPriorityScopedLabel,
  parsePriorityLabel,
  priorityLabel,
  PriorityLabelValue,
} from './priority';

export type DefectPriority = 'Blocker' | 'Critical' | 'Major' | 'Minor' | 'Trivial';

export const DEFECT_PRIORITIES: readonly DefectPriority[] = [
  'Blocker',
  'Critical',
  'Major',
  'Minor',
  'Trivial',
];

/** The defect priority assumed when neither the issue nor TestKase says otherwise. */
export const DEFAULT_DEFECT_PRIORITY: DefectPriority = 'Major';

const LABEL_VALUE_BY_DEFECT_PRIORITY: Readonly<Record<DefectPriority, PriorityLabelValue>> = {
  Blocker: 'critical',
  Critical: 'high',
  Major: 'medium',
  Minor: 'low',
  Trivial: 'low',
};

const DEFECT_PRIORITY_BY_LABEL_VALUE: Readonly<Record<PriorityLabelValue, DefectPriority>> = {
  critical: 'Blocker',
  high: 'Critical',
  medium: 'Major',
  low: 'Minor',
};

/** The GitLab label title that carries a defect priority, e.g. Blocker → `priority::critical`. */
export const defectPriorityToLabel = (priority: DefectPriority): string =>
  priorityLabel(LABEL_VALUE_BY_DEFECT_PRIORITY[priority]);

export interface LabelChanges {
  /** Label titles to send as `add_labels`. */
  add: string[];
  /** Label titles to send as `remove_labels`, exactly as they are on the issue. */
  remove: string[];
}

/**
 * The label changes that leave exactly one priority on the issue: the one for `priority`.
 * A label that already means the wanted priority (even spelt `Priority:: High`) is kept rather than
 * re-added; every other `priority::*` label, unknown values included, is removed, because GitLab
 * Free does not remove the old scoped label for us.
 */
export const planPriorityLabels = (
  currentLabels: readonly string[],
  priority: DefectPriority,
): LabelChanges => {
  const wanted = LABEL_VALUE_BY_DEFECT_PRIORITY[priority];
  const remove: string[] = [];
  let present = false;
  for (const label of currentLabels) {
    if (!isPriorityScopedLabel(label)) continue;
    if (parsePriorityLabel(label) === wanted) present = true;
    else if (!remove.includes(label)) remove.push(label);
  }
  return { add: present ? [] : [priorityLabel(wanted)], remove };
};

/**
 * Defect priority from an issue's label titles: the most urgent `priority::*` label decides.
 * `priority::low` means both Minor and Trivial, so a defect that is Trivial stays Trivial; with no
 * priority label the current priority is kept (Major when there is none).
 */
export const labelsToDefectPriority = (
  labels: readonly string[],
  currentDefectPriority?: DefectPriority,
): DefectPriority => {
  const value = highestPriorityLabelValue(labels);
  if (value === null) return currentDefectPriority ?? DEFAULT_DEFECT_PRIORITY;
  if (
    currentDefectPriority !== undefined &&
    LABEL_VALUE_BY_DEFECT_PRIORITY[currentDefectPriority] === value
  ) {
    return currentDefectPriority;
  }
  return DEFECT_PRIORITY_BY_LABEL_VALUE[value];
};
