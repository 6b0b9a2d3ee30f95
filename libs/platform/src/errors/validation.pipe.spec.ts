import 'reflect-metadata';

import { IsString } from 'class-validator';

import { createValidationPipe, MAX_INPUT_DEPTH } from './validation.pipe';

class Body {
  @IsString() title!: string;
}

const pipe = createValidationPipe();
const asBody = { type: 'body' as const, metatype: Body, data: '' };
const asParam = { type: 'param' as const, metatype: String, data: 'projectId' };

describe('the validation pipe against hostile input (issue 14)', () => {
  it('refuses U+0000 in a value or a key, naming the field', async () => {
    await expect(pipe.transform({ title: 'a\u0000b' }, asBody)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { fields: [{ field: 'title', problems: ['must not contain U+0000'] }] },
    });
    await expect(pipe.transform({ ['x\u0000']: 1, title: 't' }, asBody)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(pipe.transform('\u0000', asParam)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { fields: [{ field: 'projectId' }] },
    });
  });

  it('refuses nesting past the limit instead of overflowing the stack', async () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    await expect(pipe.transform({ title: deep }, asBody)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    let shallow: unknown = 'x';
    for (let i = 0; i < MAX_INPUT_DEPTH - 2; i += 1) shallow = { a: shallow };
    // Within the limit: class-validator decides (a nested object is no string).
    await expect(pipe.transform({ title: shallow }, asBody)).rejects.toMatchObject({
      message: expect.stringContaining('title must be a string'),
    });
  });

  it('passes ordinary input on', async () => {
    await expect(pipe.transform({ title: 'Checkout fails' }, asBody)).resolves.toMatchObject({
      title: 'Checkout fails',
    });
  });
});
