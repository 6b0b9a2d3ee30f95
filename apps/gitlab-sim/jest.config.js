const preset = require('../../jest.preset.js');

module.exports = {
  ...preset,
  displayName: 'gitlab-sim',
  rootDir: __dirname,
  // @fastify/swagger-ui → @fastify/static requires content-disposition 3, which ships ESM only;
  // Jest's CommonJS runtime on Node 20 needs it transpiled (plain `node` loads it natively).
  transform: {
    ...preset.transform,
    '^.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
};
