module.exports = { ...require('../../jest.preset.js'), displayName: 'gitlab', rootDir: __dirname };
