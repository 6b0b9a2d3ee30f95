import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import type { TokenCipher } from '../crypto/token-cipher';
import { SCHEMA } from './schema';

/** The secrets a rotation gives GitLab, in clear: memory only. */
export interface RotationSecrets {
  readonly secret: string;
  readonly signingToken: string;
}

export interface PendingRotation {
  readonly connectionId: string;
  readonly newSecretSha256: string;
  readonly previousSecretSha256: string | null;
  readonly startedAt: Date;
  readonly secrets: RotationSecrets;
}

/** Associated data of a rotation's sealed secrets: bound to the connection, distinct from its tokens'. */
export const rotationContext = (connectionId: string): string => `${connectionId}/hook-rotation`;

/**
 * Rotations of a hook's secrets under way (`connection.hook_rotations`): written and committed
 * before GitLab learns the new secrets, deleted in the transaction that records them on the
 * connection. A row that outlives its rotation is one a crash interrupted; the health job completes
 * it (docs/ARCHITECTURE.md, "Messaging").
 */
@Injectable()
export class HookRotationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Commits at once (its own statement), whatever transaction the caller is in. */
  async begin(
    connectionId: string,
    newSecretSha256: string,
    previousSecretSha256: string | null,
    secrets: RotationSecrets,
    cipher: TokenCipher,
  ): Promise<void> {
    const sealed = cipher.encrypt(JSON.stringify(secrets), rotationContext(connectionId));
    await this.dataSource.query(
      `INSERT INTO "${SCHEMA}".hook_rotations
         (connection_id, new_secret_sha256, previous_secret_sha256, key_id, secrets_ciphertext, started_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (connection_id) DO UPDATE SET
         new_secret_sha256 = excluded.new_secret_sha256,
         previous_secret_sha256 = excluded.previous_secret_sha256,
         key_id = excluded.key_id,
         secrets_ciphertext = excluded.secrets_ciphertext,
         started_at = excluded.started_at`,
      [connectionId, newSecretSha256, previousSecretSha256, sealed.keyId, sealed.ciphertext],
    );
  }

  /** The new secret's hash of a rotation under way (or interrupted) for this connection. */
  async pendingSecretSha256(db: EntityManager | DataSource, connectionId: string): Promise<string | null> {
    const rows: Array<{ new_secret_sha256: string }> = await db.query(
      `SELECT new_secret_sha256 FROM "${SCHEMA}".hook_rotations WHERE connection_id = $1`,
      [connectionId],
    );
    return rows[0]?.new_secret_sha256 ?? null;
  }

  /** In the transaction that records the new secrets on the connection. */
  async finish(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query(`DELETE FROM "${SCHEMA}".hook_rotations WHERE connection_id = $1`, [connectionId]);
  }

  /** Rotations started more than `olderThanMs` ago: interrupted ones. */
  async stale(olderThanMs: number, cipher: TokenCipher, limit = 50): Promise<PendingRotation[]> {
    const rows: Array<{
      connection_id: string;
      new_secret_sha256: string;
      previous_secret_sha256: string | null;
      key_id: string;
      secrets_ciphertext: string;
      started_at: Date;
    }> = await this.dataSource.query(
      `SELECT * FROM "${SCHEMA}".hook_rotations
        WHERE started_at <= now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY started_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map((row) => ({
      connectionId: row.connection_id,
      newSecretSha256: row.new_secret_sha256,
      previousSecretSha256: row.previous_secret_sha256,
      startedAt: row.started_at,
      secrets: JSON.parse(
        cipher.decrypt(
          { keyId: row.key_id, ciphertext: row.secrets_ciphertext },
          rotationContext(row.connection_id),
        ),
      ) as RotationSecrets,
    }));
  }
}
