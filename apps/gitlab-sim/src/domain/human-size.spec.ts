import { humanSize } from './human-size';

describe('humanSize (ActiveSupport number_to_human_size)', () => {
  it('formats bytes, kilobytes and megabytes with three significant digits', () => {
    expect(humanSize(1)).toBe('1 Byte');
    expect(humanSize(512)).toBe('512 Bytes');
    expect(humanSize(1_536)).toBe('1.5 KB');
    expect(humanSize(1_048_576)).toBe('1 MB');
    expect(humanSize(1_048_577)).toBe('1 MB');
    expect(humanSize(1_572_864)).toBe('1.5 MB');
    expect(humanSize(3 * 1_048_576 + 123_456)).toBe('3.12 MB');
  });
});
