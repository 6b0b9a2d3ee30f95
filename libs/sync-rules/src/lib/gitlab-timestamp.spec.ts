import { parseGitlabTimestamp } from './gitlab-timestamp';

describe('parseGitlabTimestamp', () => {
  it.each([
    ['2016-01-04T15:31:51.081Z', '2016-01-04T15:31:51.081Z'],
    ['2013-12-03T17:15:43Z', '2013-12-03T17:15:43.000Z'],
    ['2026-05-28T06:14:44.830Z', '2026-05-28T06:14:44.830Z'],
    ['2013-12-03T17:15:43+02:00', '2013-12-03T15:15:43.000Z'],
    ['2013-12-03T17:15:43.5-05:30', '2013-12-03T22:45:43.500Z'],
    ['2016-01-04T15:31:51.081234Z', '2016-01-04T15:31:51.081Z'],
    ['2016-01-04t15:31:51z', '2016-01-04T15:31:51.000Z'],
    ['2013-12-03T17:15Z', '2013-12-03T17:15:00.000Z'],
    ['2017-09-15 16:50:55 UTC', '2017-09-15T16:50:55.000Z'],
    ['2018-03-23 17:35:53 UTC', '2018-03-23T17:35:53.000Z'],
    ['2017-09-15 16:50:55 +0200', '2017-09-15T14:50:55.000Z'],
    ['2017-09-15 16:50:55 -0700', '2017-09-15T23:50:55.000Z'],
    ['2017-12-31 23:30:00 -0100', '2018-01-01T00:30:00.000Z'],
    ['  2013-12-03T17:15:43Z\n', '2013-12-03T17:15:43.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('reads %j as %s', (value, iso) => {
    expect(parseGitlabTimestamp(value)?.toISOString()).toBe(iso);
  });

  it('passes a valid Date through as a copy', () => {
    const date = new Date('2020-01-02T03:04:05.006Z');
    const parsed = parseGitlabTimestamp(date);
    expect(parsed).toEqual(date);
    expect(parsed).not.toBe(date);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an empty string', ''],
    ['garbage', 'yesterday'],
    ['a date without a time', '2017-09-15'],
    ['a time without a zone', '2017-09-15T16:50:55'],
    ['an unknown zone name', '2017-09-15 16:50:55 CEST'],
    ['February 30th', '2021-02-30T00:00:00Z'],
    ['February 29th of a common year', '2023-02-29T00:00:00Z'],
    ['month 13', '2021-13-01T00:00:00Z'],
    ['hour 24', '2021-01-01T24:00:00Z'],
    ['minute 60', '2021-01-01T23:60:00Z'],
    ['second 61', '2021-01-01T23:00:61Z'],
    ['an offset beyond 18 hours', '2021-01-01T00:00:00+19:00'],
    ['offset minutes beyond 59', '2021-01-01T00:00:00+01:60'],
    ['an HTTP date', 'Fri, 15 Sep 2017 16:50:55 GMT'],
    ['a number', 1_700_000_000_000],
    ['an object', { at: '2017-09-15T16:50:55Z' }],
    ['an array', ['2017-09-15T16:50:55Z']],
    ['a boolean', true],
    ['an Invalid Date', new Date(Number.NaN)],
  ])('gives null for %s', (_case, value) => {
    expect(parseGitlabTimestamp(value)).toBeNull();
  });
});
