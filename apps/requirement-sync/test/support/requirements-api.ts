import {
  RequirementUpserted,
  RequirementUpsertedBatch,
  type CloudEvent,
  type RequirementUpsertedBatchV1,
  type RequirementUpsertedV1,
  type RequirementV1,
} from '@testkase/contracts';
import type { NatsProbe, TestStack } from '@testkase/testing';

export interface RequirementPage {
  items: RequirementV1[];
  nextCursor: string | null;
}

/** Every requirement of a project through the API, page by page (200 each). */
export async function allRequirements(
  stack: TestStack,
  projectId: string,
  filters: Record<string, string> = {},
): Promise<RequirementV1[]> {
  const all: RequirementV1[] = [];
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({
      ...filters,
      limit: '200',
      ...(cursor ? { cursor } : {}),
    });
    const response: { status: number; body: RequirementPage } = await stack.core<RequirementPage>(
      'requirement-sync',
      'GET',
      `/v1/projects/${encodeURIComponent(projectId)}/requirements?${query}`,
    );
    if (response.status !== 200)
      throw new Error(`list answered ${response.status}: ${JSON.stringify(response.body)}`);
    all.push(...response.body.items);
    cursor = response.body.nextCursor;
  } while (cursor);
  return all;
}

/** The requirement of one issue, or undefined. */
export async function requirementOfIssue(
  stack: TestStack,
  projectId: string,
  iid: number,
): Promise<RequirementV1 | undefined> {
  return (await allRequirements(stack, projectId)).find((requirement) => requirement.external.iid === iid);
}

/**
 * `testkase.requirement.upserted` events of one project (as TestKase core would read them), in
 * stream order; each item of an `upserted_batch` counts as its own event (with the batch's id).
 */
export async function upsertedEvents(
  probe: NatsProbe,
  projectId: string,
): Promise<Array<CloudEvent<RequirementUpsertedV1>>> {
  const events = await probe.events<RequirementUpsertedV1 | RequirementUpsertedBatchV1>(
    'TESTKASE_EVENTS',
    'testkase.requirement.>',
  );
  return events
    .flatMap((event): Array<CloudEvent<RequirementUpsertedV1>> => {
      if (event.type === RequirementUpsertedBatch.type)
        return (event.data as RequirementUpsertedBatchV1).items.map((data) => ({ ...event, data }));
      if (event.type === RequirementUpserted.type) return [event as CloudEvent<RequirementUpsertedV1>];
      return [];
    })
    .filter((event) => event.data.requirement.projectId === projectId);
}
