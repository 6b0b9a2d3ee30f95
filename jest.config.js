// Root config: `npm test` runs every project (unit, integration, end-to-end) in one Jest run.
module.exports = {
  projects: [
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/e2e/jest.config.js',
    '<rootDir>/bench/jest.config.js',
  ],
  // A global option (ignored inside `projects`): integration and end-to-end tests talk to real servers.
  testTimeout: 30_000,
  // Two suites at a time: most of an end-to-end suite's time is spent waiting (GitLab rate windows,
  // reconciliation ticks), so two workers on this 2-core machine halve the wall time (867 s → 467 s
  // on 2026-12-03) without starving the apps each suite starts. Each suite has its own database and
  // NATS prefix, so they never share state.
  maxWorkers: 2,
};
