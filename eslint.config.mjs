// One ESLint run over the whole repository (`npm run lint`). The rule that matters most here is
// @nx/enforce-module-boundaries: it turns the layering of docs/architecture.md ("Layering") into lint errors.
//   - apps never import apps (type:app may depend only on type:lib and type:contracts);
//   - a service reaches another service only through libs/contracts (scope:<app> may depend only on its own scope
//     and scope:shared, and no lib may be scoped to a single app's internals);
//   - libs never import apps; contracts import nothing of ours.
import nx from '@nx/eslint-plugin';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '.dist-build-*/**', 'dist.old-*/**', '.lab/**', '.tools/**', '.nx/**', 'libs/contracts/src/generated/**', '**/__fixtures__/**', 'coverage/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'] },
            { sourceTag: 'scope:orders', onlyDependOnLibsWithTags: ['scope:orders', 'scope:shared'] },
            { sourceTag: 'scope:inventory', onlyDependOnLibsWithTags: ['scope:inventory', 'scope:shared'] },
            { sourceTag: 'scope:recommendations', onlyDependOnLibsWithTags: ['scope:recommendations', 'scope:shared'] },
            { sourceTag: 'scope:notifications', onlyDependOnLibsWithTags: ['scope:notifications', 'scope:shared'] },
            { sourceTag: 'scope:outbox-relay', onlyDependOnLibsWithTags: ['scope:outbox-relay', 'scope:shared'] },
            { sourceTag: 'scope:lab', onlyDependOnLibsWithTags: ['scope:lab', 'scope:shared'] },
            // k8s/ (manifests and their static checks) imports only test support (the NetworkPolicy evaluator, shared
            // with the kind emulation); its tests read apps' built config.
            { sourceTag: 'type:deploy', onlyDependOnLibsWithTags: ['type:test-support'] },
            { sourceTag: 'scope:deploy', onlyDependOnLibsWithTags: ['type:test-support'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
