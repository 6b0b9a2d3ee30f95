import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  /** PEM of a private root CA, as a self-hosted GitLab's admin would hand it over. */
  readonly caCertificate: string;
  /** Server key and certificate for 127.0.0.1/localhost, signed by that CA. */
  readonly serverKey: string;
  readonly serverCertificate: string;
}

/** Generates a throw-away private CA and a server certificate with openssl. */
export function generateTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'gitlab-pki-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  try {
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
    run(
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-days',
      '2',
      '-subj',
      '/CN=Test Private CA',
      '-out',
      'ca.pem',
    );
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
    run('req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
      '-out',
      'server.pem',
    );
    return {
      caCertificate: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      serverKey: readFileSync(join(dir, 'server.key'), 'utf8'),
      serverCertificate: readFileSync(join(dir, 'server.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
