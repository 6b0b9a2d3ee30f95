import { MetricsRegistry } from '@testkase/platform';

import { SyncMetrics } from './sync.metrics';

describe('requirement-sync backfill gauges', () => {
  it('sum the running backfills without a label per connection, and forget one that ended', async () => {
    const registry = new MetricsRegistry('requirement-sync');
    const metrics = new SyncMetrics(registry);
    metrics.backfillProgress('c1', 0, 100);
    metrics.backfillProgress('c2', 10, 50);
    metrics.backfillProgress('c1', 40);

    let text = await registry.metrics();
    expect(text).toContain('requirement_sync_backfills_running{service="requirement-sync"} 2');
    expect(text).toContain('requirement_sync_backfill_imported{service="requirement-sync"} 50');
    expect(text).toContain('requirement_sync_backfill_expected{service="requirement-sync"} 150');
    expect(text).not.toMatch(/connection=/);

    metrics.backfillEnded('c1');
    text = await registry.metrics();
    expect(text).toContain('requirement_sync_backfills_running{service="requirement-sync"} 1');
    expect(text).toContain('requirement_sync_backfill_imported{service="requirement-sync"} 10');
  });
});
