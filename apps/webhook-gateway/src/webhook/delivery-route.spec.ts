import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  eventLabelOf,
  looksLikeJsonObject,
  OBJECT_KIND_SCAN_BYTES,
  routeDelivery,
  scanObjectKind,
} from './delivery-route';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../test/fixtures/gitlab', name));

describe('routeDelivery', () => {
  it.each([
    ['Issue Hook', 'webhook-issue-open.json', 'issue', 'issue'],
    ['Confidential Issue Hook', 'webhook-issue-open.json', 'issue', 'confidential_issue'],
    ['Issue Hook', 'real/webhook-issue-open-null-description-2018.json', 'issue', 'issue'],
    ['Issue Hook', 'real/webhook-work-item-task-open-2026.json', 'work_item', 'work_item'],
    ['Note Hook', 'webhook-note-issue.json', 'note', 'note'],
    ['Confidential Note Hook', 'real/webhook-confidential-note-issue-2023.json', 'note', 'confidential_note'],
  ])('sends a %s with %s to the %s subject', (header, file, kind, event) => {
    expect(routeDelivery(header, fixture(file))).toEqual({ use: true, kind, event });
  });

  it.each([
    ['Push Hook', 'push'],
    ['Merge Request Hook', 'merge_request'],
    ['Pipeline Hook', 'pipeline'],
    ['Some Future Hook', 'other'],
  ])('does not use a %s', (header, event) => {
    expect(routeDelivery(header, Buffer.from('{"object_kind":"x"}'))).toEqual({ use: false, event });
  });

  it('finds a top-level object_kind after other keys within the scanned prefix', () => {
    const padding = 'x\\"}{'.repeat(4_000);
    const body = Buffer.from(
      JSON.stringify({ user: { object_kind: 'x', padding }, object_kind: 'work_item' }),
    );
    expect(routeDelivery('Issue Hook', body)).toEqual({ use: true, kind: 'work_item', event: 'work_item' });
  });

  it('never parses beyond the scanned prefix: an object_kind past it routes as an issue', () => {
    const padding = 'x'.repeat(OBJECT_KIND_SCAN_BYTES);
    const body = Buffer.from(JSON.stringify({ padding, object_kind: 'work_item' }));
    expect(routeDelivery('Issue Hook', body)).toEqual({ use: true, kind: 'issue', event: 'issue' });
  });

  it('treats an issue body without object_kind as an issue', () => {
    expect(routeDelivery('Issue Hook', Buffer.from('{"object_attributes":{}}'))).toMatchObject({
      kind: 'issue',
    });
  });

  it('calls an issue hook whose body is not a JSON object invalid', () => {
    expect(routeDelivery('Issue Hook', Buffer.from('{not json}'))).toEqual({
      use: false,
      event: 'issue',
      invalid: true,
    });
    expect(routeDelivery('Issue Hook', Buffer.from('["object_kind"]'))).toMatchObject({ invalid: true });
  });
});

describe('scanObjectKind', () => {
  it.each([
    ['{"object_kind":"issue"}', 'issue'],
    ['{\n    "object_kind" : "work_item",', 'work_item'],
    ['{"object_kind":\t"note"}', 'note'],
    ['{"kind":"issue"}', undefined],
    ['{"object_kind": 5}', undefined],
    ['{"object_kind":"unterminated', undefined],
    ['{"user":{"object_kind":"note"},"labels":[1,{"a":"]"}],"n":-1.5e3,"object_kind":"issue"}', 'issue'],
    ['{"user":{"id":1}}', undefined],
    ['{}', undefined],
    ['{not json}', null],
    ['{"a" 1}', null],
    ['["object_kind"]', null],
  ])('reads %j as %s', (text, expected) => {
    expect(scanObjectKind(Buffer.from(text))).toBe(expected);
  });

  it('does not look beyond the limit', () => {
    expect(
      scanObjectKind(Buffer.from(`{"a":"${'x'.repeat(50)}","object_kind":"issue"}`), 20),
    ).toBeUndefined();
  });
});

describe('looksLikeJsonObject', () => {
  it.each([
    ['{}', true],
    ['  {"a":1}\n', true],
    ['[1,2]', false],
    ['a=1&b=2', false],
    ['{"a":1', false],
    ['', false],
    ['   ', false],
  ])('%j → %s', (text, expected) => {
    expect(looksLikeJsonObject(Buffer.from(text))).toBe(expected);
  });

  it('looks at a bounded number of blanks around the braces', () => {
    const blanks = ' '.repeat(OBJECT_KIND_SCAN_BYTES + 1);
    expect(looksLikeJsonObject(Buffer.from(`${blanks}{}`))).toBe(false);
    expect(looksLikeJsonObject(Buffer.from(`{}${blanks}`))).toBe(false);
    expect(looksLikeJsonObject(Buffer.from(`${blanks.slice(2)}{}${blanks.slice(2)}`))).toBe(true);
  });
});

describe('eventLabelOf', () => {
  it('labels missing, repeated and unknown headers without echoing them', () => {
    expect(eventLabelOf(undefined)).toBe('none');
    expect(eventLabelOf(['Issue Hook', 'Issue Hook'])).toBe('none');
    expect(eventLabelOf('<script>')).toBe('other');
    expect(eventLabelOf('Confidential Note Hook')).toBe('confidential_note');
  });
});
