// One line from vitest's JSON report (.local/test-results.json, see vitest.config.ts):
// `tests: N passed, N failed, N skipped`, or that the run did not start.
import fs from 'node:fs';

const file = '.local/test-results.json';
if (!fs.existsSync(file)) {
  console.log('tests: 0 passed, 0 failed (the test run did not start)');
} else {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
}
