import type { CloudEvent, RequirementUpsertedV1, RequirementV1 } from '@testkase/contracts';
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

/** `testkase.requirement.upserted` events of one project (as TestKase core would read them). */
export async function upsertedEvents(
  probe: NatsProbe,
  projectId: string,
): Promise<Array<CloudEvent<RequirementUpsertedV1>>> {
  const events = await probe.events<RequirementUpsertedV1>(
    'TESTKASE_EVENTS',
    'testkase.requirement.upserted',
  );
  return events.filter((event) => event.data.requirement.projectId === projectId);
}
