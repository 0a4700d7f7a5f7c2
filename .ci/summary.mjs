// One line from vitest's JSON report (.local/test-results.json, see vitest.config.ts):
// `tests: N passed, N failed, N skipped`, naming each failed test (file › title: the
// first line of its failure) so the last line of a CI log says what to fix; or that the
// run did not start.
import fs from 'node:fs';
import path from 'node:path';

const file = '.local/test-results.json';
const firstLine = (text, length) => String(text || 'failed').trim().split('\n')[0].slice(0, length);
if (!fs.existsSync(file)) {
  console.log('tests: 0 passed, 0 failed (the test run did not start)');
} else {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const failed = r.testResults.flatMap((suite) => {
    const where = path.relative(process.cwd(), suite.name);
    const tests = suite.assertionResults
      .filter((t) => t.status === 'failed')
      .map((t) => `${where} › ${t.fullName}: ${firstLine(t.failureMessages?.[0], 300)}`);
    // A file that failed before its tests ran (an import, a hook) has no failed assertion.
    return tests.length > 0 || suite.status !== 'failed' ? tests : [`${where} (${firstLine(suite.message, 160)})`];
  });
  const named = failed.length > 0 ? ` (${failed.join('; ')})` : '';
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped${named}`);
}
