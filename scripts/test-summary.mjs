// Prints vitest's JSON report as one plain line, "N passed, M failed", so a CI
// run that executed no test is visible as "0 passed". Skipped tests are listed
// first, file by file with the first one's full name, so that a skipped suite
// (say, the Redis tests without a redis-server) shows. Exits non-zero when the
// report is missing, empty, or has failures.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const file = process.argv[2] ?? '.vitest-results.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log('0 passed, 0 failed');
  console.error(`no test report at ${file}: ${error.message}`);
  process.exit(1);
}
for (const file of report.testResults ?? []) {
  const skipped = (file.assertionResults ?? []).filter((test) => ['skipped', 'pending', 'todo'].includes(test.status));
  if (skipped.length > 0) console.log(`skipped ${skipped.length} in ${relative(process.cwd(), file.name)}, e.g. ${skipped[0].fullName}`);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
