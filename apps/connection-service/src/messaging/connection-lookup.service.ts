import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { DataSource } from 'typeorm';

import type { CredentialsReply, WebhookVerifierReply } from '@testkase/contracts';

import { toVerifier } from '../connection/connection.mapper';
import { openSigningToken } from '../crypto/hook-signing';
import { TokenCipher } from '../crypto/token-cipher';
import { ConnectionRepository } from '../persistence/connection.repository';

const connectionIdOf = (request: unknown): string | null => {
  const id =
    typeof request === 'object' && request !== null
      ? (request as { connectionId?: unknown }).connectionId
      : undefined;
  return typeof id === 'string' && isUUID(id) ? id : null;
};

const invalid = {
  ok: false as const,
  error: { code: 'VALIDATION_FAILED', message: 'connectionId (a UUID) is required' },
};
const unknown = {
  ok: false as const,
  error: { code: 'NOT_CONNECTED', message: 'No such connection, or it is disconnected' },
};

/** What other services may ask about a connection over NATS request/reply. */
@Injectable()
export class ConnectionLookup {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: ConnectionRepository,
    private readonly cipher: TokenCipher,
  ) {}

  /** `rpc.connection.credentials`: the only way the decrypted token leaves this service. */
  async credentials(request: unknown): Promise<CredentialsReply> {
    const connectionId = connectionIdOf(request);
    if (!connectionId) return invalid;
    const row = await this.repository.findById(this.dataSource, connectionId);
    if (!row || row.disconnectedAt || !row.tokenCiphertext || !row.tokenKeyId) return unknown;
    const token = this.cipher.decrypt({ keyId: row.tokenKeyId, ciphertext: row.tokenCiphertext }, row.id);
    return {
      ok: true,
      credentials: {
        connectionId: row.id,
        projectId: row.projectId,
        instanceUrl: row.instanceUrl,
        gitlabProjectId: row.gitlabProjectId,
        projectWebUrl: row.projectWebUrl,
        token,
        tokenUserId: row.tokenUserId,
        caCertificate: row.caCertificate,
      },
    };
  }

  /**
   * `rpc.connection.webhook_verifier`: the gateway's fallback when its KV view has no entry, and the
   * only way a hook's signing token leaves this service.
   */
  async webhookVerifier(request: unknown): Promise<WebhookVerifierReply> {
    const connectionId = connectionIdOf(request);
    if (!connectionId) return invalid;
    const row = await this.repository.findById(this.dataSource, connectionId);
    if (!row) return unknown;
    const verifier = toVerifier(row, row.updatedAt);
    const signingKey = verifier.state === 'active' ? openSigningToken(row, this.cipher) : null;
    return { ok: true, verifier, ...(signingKey ? { signingKey } : {}) };
  }
}
