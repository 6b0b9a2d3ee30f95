import type { TestStack } from '@testkase/testing';

/** The value of one Prometheus series of requirement-sync (0 when absent), e.g. `requirement_sync_issue_events_total{outcome="stale"}`. */
export async function metric(
  stack: TestStack,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${stack.url('requirement-sync')}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
