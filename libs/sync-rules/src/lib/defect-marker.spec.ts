import { AppError, ValidationError } from '@testkase/util';

import { defectMarker, findDefectMarker } from './defect-marker';

describe('defectMarker', () => {
  it.each([
    ['d-1', '<!-- testkase:defect:d-1 -->'],
    ['abc_DEF.9:x-y', '<!-- testkase:defect:abc_DEF.9:x-y -->'],
    ['7', '<!-- testkase:defect:7 -->'],
    ['x'.repeat(128), `<!-- testkase:defect:${'x'.repeat(128)} -->`],
  ])('marks defect %j', (defectId, marker) => {
    expect(defectMarker(defectId)).toBe(marker);
  });

  it.each(['', 'x'.repeat(129), 'has space', 'a-->b', '<script>', 'défaut', 'a\nb', 'a/b'])(
    'refuses the id %j',
    (defectId) => {
      const attempt = () => defectMarker(defectId);
      expect(attempt).toThrow(ValidationError);
      expect(attempt).toThrow(expect.objectContaining<Partial<AppError>>({ code: 'VALIDATION_FAILED' }));
    },
  );
});

describe('findDefectMarker', () => {
  it.each<[string | null | undefined, string | null]>([
    [null, null],
    [undefined, null],
    ['', null],
    ['A description without a marker', null],
    ['<!-- testkase:defect:d-1 -->', 'd-1'],
    ['Steps:\n\n1. open\n\n---\n[TestKase](https://x)\n\n<!-- testkase:defect:d-42 -->\n', 'd-42'],
    ['<!-- testkase:defect:d-1 --> and text after', 'd-1'],
    ['<!--testkase:defect:d-1-->', 'd-1'],
    ['<!--   testkase:defect:d-1   -->', 'd-1'],
    ['<!-- testkase : defect : d-1 -->', 'd-1'],
    ['<!--\ntestkase:defect:d-1\n-->', 'd-1'],
    ['<!-- TestKase:Defect:D-1 -->', 'D-1'],
    ['<!-- testkase:defect:ns:id.v2 -->', 'ns:id.v2'],
    ['<!-- testkase:defect:first --> <!-- testkase:defect:second -->', 'first'],
    ['<!-- testkase:defect: -->', null],
    ['<!-- testkase:defect:has space -->', null],
    [`<!-- testkase:defect:${'x'.repeat(129)} -->`, null],
    ['testkase:defect:d-1', null],
    ['<!-- other:defect:d-1 -->', null],
  ])('finds %j in %j', (description, defectId) => {
    expect(findDefectMarker(description)).toBe(defectId);
  });

  it.each(['d-1', 'abc_DEF.9:x-y', 'x'.repeat(128)])('reads back the marker written for %j', (defectId) => {
    expect(findDefectMarker(`Some text\n\n${defectMarker(defectId)}`)).toBe(defectId);
  });
});
