import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ConfigError, grpcTlsOf, loadConfig } from '@testkase/platform/config';
import { configVariables, envExampleVariables, selfSignedCertificate } from '@testkase/testing';

import { ConnectionConfig } from './connection-service.config';

const goodKey = Buffer.alloc(32, 3).toString('base64');

describe('ConnectionConfig', () => {
  it('documents exactly the variables it reads in .env.example', () => {
    expect(envExampleVariables('connection-service')).toEqual(configVariables(ConnectionConfig));
  });

  it('loads a valid environment with its defaults', () => {
    const config = loadConfig(ConnectionConfig, {
      CORE_API_TOKEN: 'core',
      TOKEN_ENCRYPTION_KEYS: `k1:${goodKey}`,
    });
    expect(config).toMatchObject({
      PORT: 3001,
      PUBLIC_WEBHOOK_BASE_URL: 'http://127.0.0.1:3000',
      GITLAB_ALLOW_PRIVATE_NETWORK: false,
      GITLAB_ALLOWED_HOSTS: [],
      HEALTH_CHECK_INTERVAL: 300_000,
    });
  });

  it('stops start-up naming TOKEN_ENCRYPTION_KEYS when the ring is malformed, without echoing the key', () => {
    const shortKey = Buffer.alloc(31, 3).toString('base64');
    let caught: unknown;
    try {
      loadConfig(
        ConnectionConfig,
        { CORE_API_TOKEN: 'core', TOKEN_ENCRYPTION_KEYS: `k1:${shortKey}` },
        'connection-service',
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    expect(message).toContain('TOKEN_ENCRYPTION_KEYS: key "k1" is 31 bytes; AES-256 needs exactly 32');
    expect(message).not.toContain(shortKey);
  });

  it('requires a key ring', () => {
    expect(() => loadConfig(ConnectionConfig, { CORE_API_TOKEN: 'core' })).toThrow(
      /TOKEN_ENCRYPTION_KEYS: is required/,
    );
  });

  it('refuses a webhook base URL with a trailing slash', () => {
    expect(() =>
      loadConfig(ConnectionConfig, {
        CORE_API_TOKEN: 'core',
        TOKEN_ENCRYPTION_KEYS: `k1:${goodKey}`,
        PUBLIC_WEBHOOK_BASE_URL: 'https://hooks.example.com/',
      }),
    ).toThrow(/PUBLIC_WEBHOOK_BASE_URL: must not end with \//);
  });

  it('takes a list of core tokens and TLS files for gRPC (both, readable PEM)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tk-tls-'));
    try {
      const { cert, key } = selfSignedCertificate();
      writeFileSync(path.join(dir, 'tls.crt'), cert);
      writeFileSync(path.join(dir, 'tls.key'), key);
      const config = loadConfig(ConnectionConfig, {
        CORE_API_TOKEN: 'new-core-token,old-core-token',
        TOKEN_ENCRYPTION_KEYS: `k1:${goodKey}`,
        GRPC_TLS_CERT_FILE: path.join(dir, 'tls.crt'),
        GRPC_TLS_KEY_FILE: path.join(dir, 'tls.key'),
      });
      expect(config.CORE_API_TOKEN).toEqual(['new-core-token', 'old-core-token']);
      expect(grpcTlsOf(config)).toEqual({
        certFile: path.join(dir, 'tls.crt'),
        keyFile: path.join(dir, 'tls.key'),
      });
      // The files swapped: each is refused by what it is not, without quoting its content.
      let caught: unknown;
      try {
        loadConfig(ConnectionConfig, {
          CORE_API_TOKEN: 'core',
          TOKEN_ENCRYPTION_KEYS: `k1:${goodKey}`,
          GRPC_TLS_CERT_FILE: path.join(dir, 'tls.key'),
          GRPC_TLS_KEY_FILE: path.join(dir, 'tls.crt'),
        });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).message).toMatch(
        /GRPC_TLS_CERT_FILE: .*tls\.key is not a PEM certificate/,
      );
      expect((caught as ConfigError).message).toMatch(
        /GRPC_TLS_KEY_FILE: .*tls\.crt is not a PEM private key/,
      );
      expect((caught as ConfigError).message).not.toContain('BEGIN');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
