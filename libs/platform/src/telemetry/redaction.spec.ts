import { Writable } from 'node:stream';

import { createLogger } from './logger';
import { scrubSecrets } from './redaction';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

describe('log redaction', () => {
  it.each([
    ['token glpat-abcdefghij1234567890 leaked', 'token glpat-[REDACTED] leaked'],
    ['signing whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'signing whsec_[REDACTED]'],
    ['oauth gloas-0123456789abcdef', 'oauth gloas-[REDACTED]'],
    ['no secret here', 'no secret here'],
  ])('scrubs %p', (input, output) => {
    expect(scrubSecrets(input)).toBe(output);
  });

  it('removes tokens from headers, fields, nested objects, messages and errors', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'test', level: 'info' }, stream);
    const token = 'glpat-supersecretvalue123456';
    logger.info(
      {
        req: {
          headers: { authorization: `Bearer ${token}`, 'private-token': token, 'x-gitlab-token': 's3cret' },
        },
        token,
        connection: { token, secret: 'hook-secret' },
      },
      `connecting with ${token}`,
    );
    logger.error({ err: new Error(`GitLab refused ${token}`) }, 'failed');
    const output = lines.join('\n');
    expect(output).not.toContain('supersecretvalue');
    expect(output).not.toContain('s3cret');
    expect(output).not.toContain('hook-secret');
    expect(output).toContain('[REDACTED]');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      service: 'test',
      level: 'info',
      msg: 'connecting with glpat-[REDACTED]',
    });
  });
});
