module.exports = { ...require('../../jest.preset.js'), displayName: 'webhook-gateway', rootDir: __dirname };
