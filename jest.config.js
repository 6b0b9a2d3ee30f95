// Root config: `npm test` runs every project (unit, integration, end-to-end) in one Jest run.
module.exports = {
  projects: [
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/e2e/jest.config.js',
  ],
  // A global option (ignored inside `projects`): integration and end-to-end tests talk to real servers.
  testTimeout: 30_000,
};
