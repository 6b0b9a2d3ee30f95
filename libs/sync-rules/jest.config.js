module.exports = { ...require('../../jest.preset.js'), displayName: 'sync-rules', rootDir: __dirname };
