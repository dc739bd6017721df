// The browser tests' and the web bench's harness: builds the server (go
// build), starts it on a free port with a database of its own (and a Redis
// channel of its own), mints development tokens, calls the API, and drives
// Debian's chromium through playwright-core.

import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const pgURL = process.env.WEB_E2E_PG ?? 'postgres://postgres@127.0.0.1:5432';
const redisURL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const secret = 'chronicle-web-e2e-secret-of-32-bytes!';

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

/**
 * harness builds the server and creates its database; `log` prints with
 * the caller's prefix. Returns the server's controls, the API helpers and
 * the browser's; `close` stops everything and drops the database.
 */
export async function harness(log) {
  const bin = join(mkdtempSync(join(tmpdir(), 'web-e2e-bin-')), 'chronicle');
  log('building the server');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: repo, stdio: 'inherit' });
  const dbName = `chronicle_web_e2e_${process.pid}_${Date.now()}`;
  const admin = (sql) => execFileSync('psql', [`${pgURL}/postgres`, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: 'inherit' });
  admin(`CREATE DATABASE ${dbName}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    CHRONICLE_DEV: 'true',
    JWT_HS256_SECRET: secret,
    // One key for the run: personal data sealed before a restart opens after it.
    CHRONICLE_MASTER_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
    DATABASE_URL: `${pgURL}/${dbName}?sslmode=disable`,
    REDIS_URL: redisURL,
    REDIS_CHANNEL: `${dbName}:updates`,
    SHUTDOWN_TIMEOUT: '3s',
    LOG_LEVEL: 'warn',
  };
  let server = null;
  let browser = null;
  const pageErrors = [];

  const h = {
    base,
    pageErrors,
    /** Starts the server and waits until it is ready. */
    async startServer() {
      server = spawn(bin, [], { env, stdio: ['ignore', 'inherit', 'inherit'] });
      for (let i = 0; i < 200; i++) {
        try {
          const r = await fetch(`${base}/readyz`);
          if (r.ok) return;
        } catch {}
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the server did not become ready');
    },
    /** Stops the server (SIGTERM) and waits for it to exit. */
    stopServer: () =>
      new Promise((res) => {
        if (!server || server.exitCode !== null) return res();
        server.once('exit', res);
        server.kill('SIGTERM');
      }),
    /** Sends one GraphQL operation; throws on errors. */
    async gql(token, query, variables) {
      const r = await fetch(`${base}/query`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = await r.json();
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    },
    /** A development token for actor in organization. */
    async mint(actor, organization) {
      const r = await fetch(`${base}/dev/token`, { method: 'POST', body: JSON.stringify({ actor, organization }) });
      return (await r.json()).token;
    },
    /** Launches chromium (headless). */
    async launch() {
      browser = await chromium.launch({
        executablePath,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
      });
    },
    /** A page in a browser context of its own (its own storage: its own sign-in). */
    async newPage(name) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
      return page;
    },
    /** Signs the page in through the development form and waits for the live badge. */
    async signIn(page, actor, organization) {
      await page.goto(`${base}/app/`);
      await page.getByLabel('Actor').fill(actor);
      await page.getByLabel('Organization').fill(organization);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 });
    },
    /** Closes the browser, stops the server, drops the database. */
    async close() {
      await browser?.close();
      await h.stopServer();
      try {
        admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } catch {}
    },
  };
  return h;
}
