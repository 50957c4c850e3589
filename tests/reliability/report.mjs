// Prints, per script, the figures of its latest recorded full run beside the run before it
// (results.jsonl), as the Markdown table tests/reliability/README.md carries.
//   node tests/reliability/report.mjs
import fs from 'node:fs';

import { RESULTS_FILE } from './lib.mjs';

const runs = fs.existsSync(RESULTS_FILE)
  ? fs.readFileSync(RESULTS_FILE, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  : [];
const show = (v) => (v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v).replaceAll('|', '\\|') : String(v));
for (const script of [...new Set(runs.map((r) => r.script))]) {
  const mine = runs.filter((r) => r.script === script && r.mode === 'full');
  if (mine.length === 0) continue;
  const [latest, previous] = [mine.at(-1), mine.at(-2)];
  const label = (r) => (r ? `${r.time.slice(0, 16)}Z ${r.commit} ${r.passed ? 'pass' : 'FAIL'}` : '(none)');
  console.log(`\n#### ${script}\n`);
  console.log(`| figure | latest (${label(latest)}) | previous (${label(previous)}) |`);
  console.log('|---|---|---|');
  const names = [...new Set([...Object.keys(latest.figures), ...Object.keys(previous?.figures ?? {})])];
  for (const name of names) {
    console.log(`| ${name} | ${show(latest.figures[name])} | ${show(previous?.figures[name])} |`);
  }
  if (latest.failed.length > 0) console.log(`\nMissed in the latest run: ${latest.failed.map((f) => f.split('\n')[0]).join('; ')}`);
}
