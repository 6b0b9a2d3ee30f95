import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Scope and type rules of docs/STYLE.md, enforced for every import. */
const depConstraints = [
  { sourceTag: 'scope:connection', onlyDependOnLibsWithTags: ['scope:connection', 'scope:shared'] },
  { sourceTag: 'scope:webhook', onlyDependOnLibsWithTags: ['scope:webhook', 'scope:shared'] },
  { sourceTag: 'scope:requirement', onlyDependOnLibsWithTags: ['scope:requirement', 'scope:shared'] },
  { sourceTag: 'scope:defect', onlyDependOnLibsWithTags: ['scope:defect', 'scope:shared'] },
  { sourceTag: 'scope:comment', onlyDependOnLibsWithTags: ['scope:comment', 'scope:shared'] },
  { sourceTag: 'scope:sim', onlyDependOnLibsWithTags: ['scope:sim', 'scope:shared'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:kit', 'type:platform', 'type:util', 'type:testing'],
  },
  { sourceTag: 'type:kit', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:util'] },
  { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:kit', 'type:platform', 'type:util', 'type:testing'],
  },
];

export default tseslint.config(
  { ignores: ['**/dist', '**/node_modules', '**/coverage', '.nx', 'tmp', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], banTransitiveDependencies: false, depConstraints },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Config and DTO classes read better with the declared type next to the default.
      '@typescript-eslint/no-inferrable-types': ['error', { ignoreProperties: true }],
      'no-console': 'error',
    },
  },
  {
    files: [
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.e2e-spec.ts',
      'libs/testing/**/*.ts',
      'bench/**/*.ts',
      'tools/**/*.ts',
    ],
    rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
);
