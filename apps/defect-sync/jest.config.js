module.exports = { ...require('../../jest.preset.js'), displayName: 'defect-sync', rootDir: __dirname };
