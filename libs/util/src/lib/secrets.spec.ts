import { constantTimeEqual, sha256Hex, tokenHint } from './secrets';

describe('secrets', () => {
  it.each([
    ['glpat-abcdefghijklmnopx7Qa', 'glpat-…x7Qa'],
    ['glpat-short', 'glpat-…'],
    ['0123456789abcdefXYZW', '…XYZW'],
    ['', '…'],
  ])('hints %p as %p', (token, hint) => {
    expect(tokenHint(token)).toBe(hint);
  });

  it('compares equal and unequal strings, including different lengths', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret-longer')).toBe(false);
  });

  it('hashes with sha-256', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
