/**
 * Re-renders the table of a results JSON written by `run.ts` (its `table` rows and the `.md` beside
 * it) with the current `table.ts`, measuring nothing: for when a goal column changes after a run.
 * `cd test && npx tsx bench/retable.ts bench/results/latest.json`. The `.md` keeps its first line
 * (the run's date, commit and load) and says that the table was re-rendered, and at which commit.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type BenchResults, markdownReport, markdownTable, tableRows } from './table.js';

const file = process.argv[2];
if (!file) throw new Error('usage: retable.ts <results .json>');
const path = resolve(file);
const report = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
/** A scenario that was skipped is recorded as `{ skipped: true, … }`; the table wants undefined. */
const measured = <T>(value: unknown): T | undefined =>
  value === undefined || value === null || (value as { skipped?: unknown }).skipped === true ? undefined : (value as T);
const names = ['ids', 'throughput', 'resolution', 'redis', 'sim', 'simMillion', 'bus', 'curves', 'peers', 'regions', 'views', 'publication'] as const;
const results = Object.fromEntries(names.map((name) => [name, measured(report[name])])) as BenchResults;
const rows = tableRows(results);
const table = markdownTable(rows);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
writeFileSync(path, `${JSON.stringify({ ...report, table: rows, retabled: { commit, date: new Date().toISOString() } }, null, 2)}\n`);
const mdFile = path.replace(/\.json$/, '') + '.md';
const firstLine = readFileSync(mdFile, 'utf8').split('\n')[0]!.replace(/ \(table re-rendered .*\)$/, '');
writeFileSync(mdFile, markdownReport(`${firstLine} (table re-rendered by bench/retable.ts at ${commit})`, table, results));
console.log(table);
console.log(`re-rendered ${path} and ${mdFile}`);
