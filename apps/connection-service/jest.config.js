module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'connection-service',
  rootDir: __dirname,
};
