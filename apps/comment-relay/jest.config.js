module.exports = { ...require('../../jest.preset.js'), displayName: 'comment-relay', rootDir: __dirname };
