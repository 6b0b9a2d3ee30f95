import { parseLinkHeader } from './link-pagination';

describe('parseLinkHeader', () => {
  it('reads GitLab offset links', () => {
    const header =
      '<https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3>; rel="prev", ' +
      '<https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=3&per_page=3>; rel="next", ' +
      '<https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3>; rel="first"';

    expect(parseLinkHeader(header)).toEqual({
      prev: 'https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3',
      next: 'https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=3&per_page=3',
      first: 'https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3',
    });
  });

  it('accepts unquoted and multi-valued rel, URLs with commas, and no header at all', () => {
    expect(parseLinkHeader('<https://h/api/v4/x?labels=a,b&page=2>; rel=next')).toEqual({
      next: 'https://h/api/v4/x?labels=a,b&page=2',
    });
    expect(parseLinkHeader('<https://h/a>; rel="next last"')).toEqual({
      next: 'https://h/a',
      last: 'https://h/a',
    });
    expect(parseLinkHeader(undefined)).toEqual({});
  });
});
