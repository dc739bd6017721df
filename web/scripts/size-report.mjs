#!/usr/bin/env node
// Build report of the web bundle: each file's size and gzipped size, and the
// JavaScript total against its budget (300 KB gzipped). Exits non-zero when
// the budget is passed, so `make web` and `make check-web` refuse to grow it
// past that unnoticed.
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../internal/webapp/dist');
const budgetKB = 300;
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else files.push(p);
  }
};
walk(dist);
let jsGz = 0;
for (const f of files.sort()) {
  const body = readFileSync(f);
  const gz = gzipSync(body, { level: 9 }).length;
  if (f.endsWith('.js')) jsGz += gz;
  console.log(`web bundle: ${f.slice(dist.length + 1).padEnd(32)} ${(body.length / 1024).toFixed(1).padStart(7)} KB  gzip ${(gz / 1024).toFixed(1).padStart(6)} KB`);
}
console.log(`web bundle: JavaScript ${(jsGz / 1024).toFixed(1)} KB gzipped (budget ${budgetKB} KB)`);
if (jsGz > budgetKB * 1024) {
  console.error(`web bundle: over the budget of ${budgetKB} KB gzipped`);
  process.exit(1);
}
