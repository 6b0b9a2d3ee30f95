import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * What TestKase changed on a requirement, so that GitLab's values never replace it silently:
 * - `priority_source`: where the priority comes from (`gitlab`: its labels; `testkase`: an override
 *   of a synced requirement, or an edit of a detached one);
 * - `priority_labels`: the issue's priority labels as of the last write from GitLab (sync-rules'
 *   priorityLabelState; NULL until the first write after this migration): a TestKase priority
 *   override holds until they change;
 * - `testkase_edits`: the fields edited in TestKase while detached, replaced (and reported) by the
 *   first write from GitLab after a re-attach;
 * - `write_effects`: what the write that produced `version` did besides `changed_fields` (the
 *   TestKase values it replaced, a priority override it dropped), for that write's events.
 * Rows edited in TestKase before this migration (`source = 'testkase'`) do not say which fields were
 * edited: all four count as edited (only those that differ from GitLab are reported).
 */
export class TrackTestkaseEdits1765500000000 implements MigrationInterface {
  name = 'TrackTestkaseEdits1765500000000';

  async up(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(`
      ALTER TABLE ${s}.requirements
        ADD COLUMN priority_source text NOT NULL DEFAULT 'gitlab' CHECK (priority_source IN ('gitlab', 'testkase')),
        ADD COLUMN priority_labels text[],
        ADD COLUMN testkase_edits text[] NOT NULL DEFAULT '{}',
        ADD COLUMN write_effects jsonb`);
    await runner.query(
      `UPDATE ${s}.requirements
          SET priority_source = 'testkase', testkase_edits = '{title,description,priority,status}'
        WHERE source = 'testkase'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(
      `ALTER TABLE ${s}.requirements DROP COLUMN write_effects, DROP COLUMN testkase_edits,
         DROP COLUMN priority_labels, DROP COLUMN priority_source`,
    );
  }
}
