module.exports = { ...require('../../jest.preset.js'), displayName: 'requirement-sync', rootDir: __dirname };
