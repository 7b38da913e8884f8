// Renders bench/results.json as the Markdown table the README shows.
//   npx tsx bench/report.ts

import { readFileSync } from 'node:fs';
import { type CaseResult, describeBound, formatNs, formatRatio, type Report, type Verdict, verdictOfResult } from './harness.js';

const VERDICT_CELLS: Readonly<Record<Verdict, string>> = { met: 'met', tie: 'tie', missed: '**missed**' };

const report = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8')) as Report;
const show = (r: CaseResult, v: number) => (r.unit === 'bytes' ? `${v.toFixed(0)} B` : formatNs(v));
console.log(`Measured ${report.date.slice(0, 10)} on ${report.cpu} (${report.cores} cores), Node ${report.node}, V8 ${report.v8}.\n`);
console.log('| case | medians | target | result |');
console.log('|---|---|---|---|');
for (const r of report.cases) {
  const medians = Object.entries(r.medians)
    .map(([label, v]) => `${label} ${show(r, v)}`)
    .join('; ');
  const targets = r.ratios.map((t) => `${t.subject} / ${t.baseline} ${describeBound(t)}`).join('; ') || 'report';
  const results = r.ratios.map((t) => `${formatRatio(t.ratio)}× ${VERDICT_CELLS[verdictOfResult(t)]}`).join('; ') || '';
  console.log(`| ${r.title}${r.perItem ? ` (per item)` : ''} | ${medians} | ${targets} | ${results} |`);
}
