// One ESLint run over the whole repository (`npm run lint`). The rule that matters most here is
// @nx/enforce-module-boundaries: it turns the layering of docs/architecture.md ("Layering") into lint errors.
//   - apps never import apps (type:app may depend only on type:lib and type:contracts);
//   - a service reaches another service only through libs/contracts (scope:<app> may depend only on its own scope
//     and scope:shared, and no lib may be scoped to a single app's internals);
//   - libs never import apps; contracts import nothing of ours;
//   - the lab's own libs (scope:lab) are for the lab and tests, never a service's or a shared lib's code.
import nx from '@nx/eslint-plugin';

const SERVICE_SCOPES = ['gateway', 'orders', 'inventory', 'recommendations', 'notifications', 'outbox-relay'];

/**
 * The layering as @nx/enforce-module-boundaries options. Tests of a service or a shared lib may also use the lab's
 * own libs (scope:lab: the fault proxy, the load generator), which their production code may not.
 */
function boundaries({ inTests }) {
  const lab = inTests ? ['scope:lab'] : [];
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allow: [],
      depConstraints: [
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
        { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
        { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', ...lab] },
        ...SERVICE_SCOPES.map((scope) => ({
          sourceTag: `scope:${scope}`,
          onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared', ...lab],
        })),
        { sourceTag: 'scope:lab', onlyDependOnLibsWithTags: ['scope:lab', 'scope:shared'] },
        // k8s/ (manifests and their static checks) imports only test support (the NetworkPolicy evaluator, shared
        // with the kind emulation); its tests read apps' built config.
        { sourceTag: 'type:deploy', onlyDependOnLibsWithTags: ['type:test-support'] },
        { sourceTag: 'scope:deploy', onlyDependOnLibsWithTags: ['type:test-support'] },
      ],
    },
  ];
}

export default [
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.dist-build-*/**',
      'dist.old-*/**',
      '.lab/**',
      '.tools/**',
      '.nx/**',
      'libs/contracts/src/generated/**',
      '**/__fixtures__/**',
      'coverage/**',
    ],
  },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ inTests: false }) },
  },
  {
    files: ['apps/*/test/**/*.ts', 'libs/*/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ inTests: true }) },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Prettier (checked by `npm run lint`) wraps code at 120; this holds comments to it too. A string, a template or
      // a regular expression is left whole: breaking it would change what it says or make it harder to search for.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
