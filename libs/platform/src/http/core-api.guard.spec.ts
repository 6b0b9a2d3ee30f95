import { presentsCoreToken } from './core-api.guard';

describe('presentsCoreToken', () => {
  const tokens = ['new-token', 'old-token'];

  it('accepts any token of the list', () => {
    expect(presentsCoreToken('Bearer new-token', tokens)).toBe(true);
    expect(presentsCoreToken('bearer old-token', tokens)).toBe(true);
  });

  it.each(['', 'Bearer ', 'Bearer other', 'new-token', 'Basic new-token', 'Bearer new-token,old-token'])(
    'refuses %p',
    (header) => expect(presentsCoreToken(header, tokens)).toBe(false),
  );

  it('refuses everything when no token is configured', () => {
    expect(presentsCoreToken('Bearer ', [])).toBe(false);
    expect(presentsCoreToken('Bearer x', [''])).toBe(false);
  });
});
