// The report's own code (bench/lib/goals.ts, summary.ts, bench/run-all.ts); the benchmarks
// themselves run with `npm run bench`, never in `npm test`.
module.exports = { ...require('../jest.preset.js'), displayName: 'bench', rootDir: __dirname };
