/** TestKase requirement priority: P0 is the most urgent. */
export type Priority = 'P0' | 'P1' | 'P2' | 'P3';

/** The values of GitLab's `priority::<value>` labels, most urgent first. */
export type PriorityLabelValue = 'critical' | 'high' | 'medium' | 'low';

export const PRIORITY_LABEL_VALUES: readonly PriorityLabelValue[] = ['critical', 'high', 'medium', 'low'];

/** The priority of an issue that carries no recognised priority label. */
export const DEFAULT_PRIORITY: Priority = 'P2';

const PRIORITY_BY_LABEL_VALUE: Readonly<Record<PriorityLabelValue, Priority>> = {
  critical: 'P0',
  high: 'P1',
  medium: 'P2',
  low: 'P3',
};

// Lenient on purpose: people type labels by hand ("Priority:: High", " priority::low ").
const PRIORITY_SCOPE = /^\s*priority\s*::/i;
const PRIORITY_LABEL = /^\s*priority\s*::\s*(critical|high|medium|low)\s*$/i;

/** The canonical label title for a value, e.g. `priority::high`. */
export const priorityLabel = (value: PriorityLabelValue): string => `priority::${value}`;

/** True for every label in the `priority::` scope, recognised value or not (`priority::urgent`). */
export const isPriorityScopedLabel = (label: string): boolean => PRIORITY_SCOPE.test(label);

/** The value of a recognised priority label, or null for any other label. */
export const parsePriorityLabel = (label: string): PriorityLabelValue | null => {
  const value = PRIORITY_LABEL.exec(label)?.[1].toLowerCase();
  return PRIORITY_LABEL_VALUES.find((known) => known === value) ?? null;
};

/**
 * The most urgent recognised priority label value on an issue, or null when there is none.
 * GitLab Free does not make scoped labels exclusive, so an issue can carry several.
 */
export const highestPriorityLabelValue = (labels: readonly string[]): PriorityLabelValue | null => {
  let best: number | null = null;
  for (const label of labels) {
    const value = parsePriorityLabel(label);
    if (value === null) continue;
    const rank = PRIORITY_LABEL_VALUES.indexOf(value);
    if (best === null || rank < best) best = rank;
  }
  return best === null ? null : PRIORITY_LABEL_VALUES[best];
};

/** Requirement priority from an issue's label titles: the most urgent `priority::*` wins, none gives P2. */
export const labelsToPriority = (labels: readonly string[]): Priority => {
  const value = highestPriorityLabelValue(labels);
  return value === null ? DEFAULT_PRIORITY : PRIORITY_BY_LABEL_VALUE[value];
};

/**
 * The priority labels of an issue as GitLab's priority is judged by: the recognised values as
 * canonical titles, sorted, without duplicates (`["Priority:: High", "bug"]` → `["priority::high"]`).
 * A change of this state, not merely the presence of a label, is a new priority set on GitLab.
 */
export const priorityLabelState = (labels: readonly string[]): string[] =>
  PRIORITY_LABEL_VALUES.filter((value) => labels.some((label) => parsePriorityLabel(label) === value)).map(
    priorityLabel,
  );
