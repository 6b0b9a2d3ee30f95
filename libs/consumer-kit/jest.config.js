module.exports = { ...require('../../jest.preset.js'), displayName: 'consumer-kit', rootDir: __dirname };
