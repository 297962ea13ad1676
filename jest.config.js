// Two suites, selected with --selectProjects:
//   unit         *.spec.ts beside the code: pure logic, no infrastructure, fast.
//   integration  test/**/*.int-spec.ts and *.e2e-spec.ts: real Postgres, Redis, Kafka and processes. They share one
//                test lab (its own state folder and ports, see apps/lab/test/support/test-lab.ts), so they run in band;
//                `npm test` runs the suites that start labs of their own in lanes beside them (tools/test/lanes.json).
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.base.json');

const transform = {
  // Type errors are caught by `npm run typecheck`; tests only transpile, which keeps them fast on 2 cores.
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
};
const moduleNameMapper = pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' });
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
  modulePathIgnorePatterns: [
    '<rootDir>/dist/',
    '<rootDir>/.dist-build-',
    '<rootDir>/dist.old-',
    '<rootDir>/.lab/',
    '<rootDir>/.tools/',
  ],
};

module.exports = {
  // Integration tests start real processes; their own waits are bounded, this is the backstop. (testTimeout is a
  // global option: set inside a project it is ignored.)
  testTimeout: 180000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/{apps,libs,tools}/*/test/**/*.int-spec.ts',
        '<rootDir>/{apps,libs}/*/test/**/*.e2e-spec.ts',
        '<rootDir>/k8s/test/**/*.int-spec.ts',
      ],
      globalSetup: '<rootDir>/apps/lab/test/support/global-setup.js',
      globalTeardown: '<rootDir>/apps/lab/test/support/global-teardown.js',
    },
  ],
};
