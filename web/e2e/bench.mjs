#!/usr/bin/env node
// The web app's budgets, measured (never asserted in a test):
//
//   - the JavaScript bundle, gzipped (scripts/size-report.mjs: budget 300 KB);
//   - the dashboard's first render on loopback (budget 1 s): a fresh browser
//     context (no cache, a signed-in session in its storage) opens
//     /app/payments, and the time from navigation start to the app's
//     `chronicle:dashboard-first-data` mark (set when the tiles first show
//     the analytics of the subscription) is read from the page; 15 loads,
//     after 2 not counted (chromium's own warm-up).
//
// Prints the numbers and writes them to docs/web-bench.md. Run by
// `make web-bench` (which builds the bundle first).

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { harness } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const log = (...a) => console.log('web-bench:', ...a);
const mark = 'chronicle:dashboard-first-data';
const warmup = 2;
const loads = 15;

const size = execFileSync('node', [resolve(here, '../scripts/size-report.mjs')], { encoding: 'utf8' });
process.stdout.write(size);
const jsKB = Number(/JavaScript ([\d.]+) KB gzipped/.exec(size)[1]);

const h = await harness(log);
let code = 0;
try {
  await h.startServer();
  await h.launch();
  const token = await h.mint('bench', 'bench');
  // A dashboard with something on it.
  for (let i = 0; i < 20; i++) {
    const d = await h.gql(token, 'mutation($i: InitiatePaymentInput!) { initiatePayment(input: $i) { paymentId } }', {
      i: { customerName: `Customer ${i}`, customerEmail: 'bench@example.com', amount: `${10 + i}.00`, currency: i % 3 ? 'EUR' : 'GBP' },
    });
    if (i % 2) await h.gql(token, 'mutation($i: ProcessPaymentInput!) { processPayment(input: $i) { version } }', { i: { id: d.initiatePayment.paymentId } });
  }
  const session = JSON.stringify({ token, actor: 'bench', organization: 'bench', dev: true });
  const times = [];
  for (let i = 0; i < warmup + loads; i++) {
    const page = await h.newPage(`load ${i}`);
    await page.context().addInitScript((s) => localStorage.setItem('chronicle.session', s), session);
    await page.goto(`${h.base}/app/payments`);
    await page.waitForFunction((m) => performance.getEntriesByName(m).length > 0, mark);
    const t = await page.evaluate((m) => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { html: nav.responseEnd, script: nav.domContentLoadedEventEnd, data: performance.getEntriesByName(m)[0].startTime };
    }, mark);
    if (i >= warmup) times.push(t);
    await page.context().close();
  }
  const q = (key, p) => {
    const v = times.map((t) => t[key]).sort((a, b) => a - b);
    return Math.round(v[Math.min(v.length - 1, Math.floor(p * v.length))]);
  };
  const median = q('data', 0.5);
  const p90 = q('data', 0.9);
  const load = (await import('node:os')).loadavg()[0].toFixed(1);
  log(`dashboard first render: median ${median} ms, p90 ${p90} ms over ${loads} cold loads (budget 1000 ms); ` +
    `of which HTML received ${q('html', 0.5)} ms, bundle run (DOMContentLoaded) ${q('script', 0.5)} ms; load average ${load}`);
  log(`JavaScript bundle: ${jsKB} KB gzipped (budget 300 KB)`);
  const report = `# Web app budgets

Measured by \`make web-bench\` (web/e2e/bench.mjs) on this machine
(${cpus().length} cores, shared), against a server built from this checkout
on loopback; never asserted in a test.

| what | measured | budget |
| --- | --- | --- |
| JavaScript bundle, gzipped | ${jsKB} KB | 300 KB |
| dashboard first render, median of ${loads} cold loads | ${median} ms | 1000 ms |
| dashboard first render, p90 | ${p90} ms | |
| of the median load: HTML received | ${q('html', 0.5)} ms | |
| of the median load: bundle run (DOMContentLoaded) | ${q('script', 0.5)} ms | |

The machine's load average (1 min) at the end of the run: ${load} (other
work shares its cores; the numbers move with it).

First render: a fresh browser context (empty cache, the session in its
storage) opens /app/payments; the time is from navigation start to the
app's \`${mark}\` performance mark, set when the tiles first show the
analytics pushed by the subscription (HTML, bundle, WebSocket connection,
subscription and its first result included).
`;
  writeFileSync(resolve(here, '../../docs/web-bench.md'), report);
  log('wrote docs/web-bench.md');
  if (h.pageErrors.length) throw new Error(h.pageErrors.join('; '));
} catch (err) {
  code = 1;
  log('FAIL', err?.stack ?? err);
} finally {
  await h.close();
  process.exit(code);
}
