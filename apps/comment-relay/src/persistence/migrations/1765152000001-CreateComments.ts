import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SweepStateStore } from '@testkase/consumer-kit';

import { SCHEMA } from '../schema';

/**
 * comment-relay's tables: its projections of requirements and pushed defects (from their services'
 * events), the linked test cases and each requirement's one comment, the comments TestKase posts on
 * defects, and the GitLab notes relayed to TestKase. GitLab notes are keyed by (connection, note id);
 * everything TestKase names is keyed by its TestKase project, so nothing crosses tenants.
 */
export class CreateComments1765152000001 implements MigrationInterface {
  name = 'CreateComments1765152000001';

  async up(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(SweepStateStore.addColumnsSql(SCHEMA));
    await runner.query(`
      CREATE TABLE ${s}.requirements (
        requirement_id uuid PRIMARY KEY,
        project_id text NOT NULL,
        connection_id uuid,
        instance_url text NOT NULL,
        gitlab_project_id bigint NOT NULL,
        iid integer NOT NULL CHECK (iid > 0),
        confidential boolean NOT NULL,
        sync_state text NOT NULL CHECK (sync_state IN ('synced', 'detached')),
        version integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX requirements_issue_idx ON ${s}.requirements (connection_id, iid)`);
    await runner.query(`
      CREATE TABLE ${s}.defects (
        project_id text NOT NULL,
        defect_id text NOT NULL,
        connection_id uuid,
        instance_url text NOT NULL,
        gitlab_project_id bigint NOT NULL,
        iid integer NOT NULL CHECK (iid > 0),
        version integer NOT NULL,
        notes_checked_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, defect_id)
      )`);
    await runner.query(`CREATE INDEX defects_issue_idx ON ${s}.defects (connection_id, iid)`);
    await runner.query(`
      CREATE TABLE ${s}.test_case_links (
        project_id text NOT NULL,
        requirement_id uuid NOT NULL,
        test_case_id text NOT NULL,
        key text NOT NULL,
        title text NOT NULL,
        url text NOT NULL,
        status text,
        linked_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, requirement_id, test_case_id)
      )`);
    await runner.query(`
      CREATE TABLE ${s}.link_comments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id text NOT NULL,
        requirement_id uuid NOT NULL,
        connection_id uuid,
        revision integer NOT NULL DEFAULT 1,
        written_revision integer NOT NULL DEFAULT 0,
        note_id bigint,
        note_internal boolean,
        body_sha256 text,
        outcome_unknown boolean NOT NULL DEFAULT false,
        dirty_since timestamptz,
        next_attempt_at timestamptz,
        waiting_since timestamptz,
        failures integer NOT NULL DEFAULT 0,
        error_code text,
        error_message text,
        error_at timestamptz,
        notes_checked_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT link_comments_requirement_key UNIQUE (project_id, requirement_id)
      )`);
    await runner.query(
      `CREATE INDEX link_comments_due_idx ON ${s}.link_comments (connection_id, next_attempt_at)
        WHERE next_attempt_at IS NOT NULL`,
    );
    await runner.query(`
      CREATE TABLE ${s}.comments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id text NOT NULL,
        defect_id text NOT NULL,
        comment_id text NOT NULL,
        connection_id uuid,
        author text NOT NULL,
        body text NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        revision integer NOT NULL DEFAULT 1,
        written_revision integer NOT NULL DEFAULT 0,
        note_id bigint,
        outcome_unknown boolean NOT NULL DEFAULT false,
        next_attempt_at timestamptz,
        waiting_since timestamptz,
        failures integer NOT NULL DEFAULT 0,
        error_code text,
        error_message text,
        error_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT comments_comment_key UNIQUE (project_id, defect_id, comment_id)
      )`);
    await runner.query(
      `CREATE INDEX comments_due_idx ON ${s}.comments (connection_id, next_attempt_at)
        WHERE next_attempt_at IS NOT NULL`,
    );
    await runner.query(
      `CREATE INDEX comments_note_idx ON ${s}.comments (connection_id, note_id) WHERE note_id IS NOT NULL`,
    );
    await runner.query(`
      CREATE TABLE ${s}.relayed_notes (
        connection_id uuid NOT NULL,
        note_id bigint NOT NULL,
        project_id text NOT NULL,
        defect_id text NOT NULL,
        iid integer NOT NULL,
        body_sha256 text NOT NULL,
        internal boolean NOT NULL,
        gl_updated_at timestamptz NOT NULL,
        deleted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection_id, note_id)
      )`);
    await runner.query(`CREATE INDEX relayed_notes_issue_idx ON ${s}.relayed_notes (connection_id, iid)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    for (const table of [
      'relayed_notes',
      'comments',
      'link_comments',
      'test_case_links',
      'defects',
      'requirements',
    ])
      await runner.query(`DROP TABLE ${s}.${table}`);
    await runner.query(SweepStateStore.dropColumnsSql(SCHEMA));
  }
}
