#!/usr/bin/env node
// Browser check of the GraphQL playground, done the way a new user would:
// open the page, paste the README's first-session mutations into the query
// editor one at a time, press the run button and read the result pane.
//
// Usage (from the repo root, with a server running):
//   (cd scripts && npm ci)
//   node scripts/playground-check.mjs [http://localhost:8080/]
//
// Needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)
// or CHROMIUM=/path/to/chrome. Screenshots go to /tmp/playground-*.png.
// Exits non-zero on any failure, including a request to another origin (the
// playground must be self-contained) or a page error.

import { chromium } from 'playwright-core';

const base = new URL(process.argv[2] ?? 'http://localhost:8080/');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shotDir = '/tmp';
const timeout = 20_000;

const log = (...a) => console.log('playground-check:', ...a);

// The README's "A first session in the playground", ID filled in later.
const openAccount = `mutation {
  openAccount(input: { owner: "Ada", currency: "EUR", initialBalance: "100.00" }) {
    position
    upToDate
    account { id owner balance { amount currency } status version }
  }
}`;
const creditAccount = (id) => `mutation {
  creditAccount(input: { id: "${id}", amount: "25.50", description: "salary" }) {
    position
    account { balance { amount currency } version }
  }
}`;
const debitAccount = (id) => `mutation {
  debitAccount(input: { id: "${id}", amount: "20.00", description: "groceries" }) {
    account { balance { amount } version }
  }
}`;
const accountQuery = (id) => `{
  account(id: "${id}") {
    owner status version balance { amount currency }
    operations(first: 10) {
      edges { node { kind amount { amount } balanceAfter { amount } description } }
    }
  }
}`;

const operationsSubscription = (id) => `subscription {
  accountOperations(id: "${id}") {
    cursor
    node { kind amount { amount } balanceAfter { amount } version }
  }
}`;

// A mutation sent from outside the browser, as another client would.
const postMutation = async (query) => {
  const res = await fetch(new URL('/query', base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`mutation: ${JSON.stringify(body.errors)}`);
  return body.data;
};

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
let failed = false;
const problems = [];
const shots = [];
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);

  // Anything not from the server's origin means the page is not self-contained.
  const foreign = [];
  const failedRequests = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.origin !== base.origin) foreign.push(req.url());
  });
  page.on('requestfailed', (req) => failedRequests.push(`${req.url()} (${req.failure()?.errorText})`));
  page.on('response', (resp) => {
    if (resp.status() >= 400) failedRequests.push(`${resp.url()} -> ${resp.status()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  const notes = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location()?.url ?? '';
    // The server has no favicon; browsers ask anyway. Worth a note, not a failure.
    if (new URL(where || base.href).pathname === '/favicon.ico') notes.push(`${where}: ${msg.text()}`);
    else problems.push(`console error: ${msg.text()} [${where}]`);
  });

  const shot = async (name) => {
    const path = `${shotDir}/playground-${name}.png`;
    await page.screenshot({ path });
    shots.push(path);
  };

  log(`opening ${base.href} with ${executablePath}`);
  const resp = await page.goto(base.href, { waitUntil: 'load' });
  if (!resp || !resp.ok()) throw new Error(`GET ${base.href}: ${resp?.status()}`);
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: /execute query/i }).waitFor({ state: 'visible' });
  log(`GraphiQL loaded: "${await page.title()}"`);
  await shot('1-loaded');

  // The text of an editor, as CodeMirror holds it (it renders only the lines
  // in view, so the DOM may not have all of it).
  const editorText = (selector) => page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return null;
    return el.CodeMirror ? el.CodeMirror.getValue() : el.innerText;
  }, selector);
  const resultText = () => editorText('.graphiql-response .CodeMirror');

  // Paste query into the query editor, press run, wait for a result that
  // mentions marker and differs from the previous one, and parse it.
  let previous = await resultText();
  const run = async (label, query, marker) => {
    const editor = page.locator('.graphiql-query-editor .CodeMirror');
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(query);
    const inEditor = await editorText('.graphiql-query-editor .CodeMirror');
    if (inEditor.trim() !== query.trim()) {
      throw new Error(`${label}: the query editor holds something else than what was pasted:\n${inEditor}`);
    }
    await page.getByRole('button', { name: /execute query/i }).click();
    await page.waitForFunction(
      ([m, prev]) => {
        const cm = document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror;
        const text = cm ? cm.getValue() : '';
        return text !== prev && text.includes(m);
      },
      [marker, previous],
      { timeout },
    );
    const text = await resultText();
    previous = text;
    let json;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${label}: result pane is not JSON: ${e.message}\n${text}`);
    }
    if (json.errors) throw new Error(`${label}: errors: ${JSON.stringify(json.errors)}`);
    return json.data;
  };
  const expect = (label, got, want) => {
    if (got !== want) throw new Error(`${label}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };

  const opened = await run('openAccount', openAccount, 'upToDate');
  const acct = opened.openAccount.account;
  log(`openAccount -> id ${acct.id}, balance ${acct.balance.amount} ${acct.balance.currency}, upToDate ${opened.openAccount.upToDate}, version ${acct.version}`);
  expect('openAccount balance', acct.balance.amount, '100.00');
  expect('openAccount upToDate', opened.openAccount.upToDate, true);
  await shot('2-open-account');

  const credited = await run('creditAccount', creditAccount(acct.id), 'creditAccount');
  log(`creditAccount 25.50 -> balance ${credited.creditAccount.account.balance.amount}, version ${credited.creditAccount.account.version}`);
  expect('creditAccount balance', credited.creditAccount.account.balance.amount, '125.50');
  await shot('3-credit');

  const debited = await run('debitAccount', debitAccount(acct.id), 'debitAccount');
  log(`debitAccount 20.00 -> balance ${debited.debitAccount.account.balance.amount}, version ${debited.debitAccount.account.version}`);
  expect('debitAccount balance', debited.debitAccount.account.balance.amount, '105.50');
  await shot('4-debit');

  const queried = await run('account', accountQuery(acct.id), '"account"');
  const a = queried.account;
  const ops = a.operations.edges.map((e) => `${e.node.kind} ${e.node.amount.amount} -> ${e.node.balanceAfter.amount}`);
  log(`account -> ${a.owner} ${a.status} v${a.version} balance ${a.balance.amount} ${a.balance.currency}; operations: ${ops.join(', ')}`);
  expect('account balance', a.balance.amount, '105.50');
  if (!ops.some((o) => o.endsWith('-> 125.50'))) throw new Error(`account operations lack the 125.50 balance: ${ops}`);
  await shot('5-account');

  // A live subscription in the playground: it shows the operations so far,
  // then a credit made by another client arrives without reloading.
  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(operationsSubscription(acct.id));
  // GraphiQL parses the editor 100 ms after a change (debounced) and only
  // then knows the operation is a subscription, for the WebSocket: a person
  // does not press run within 100 ms of typing.
  await page.waitForTimeout(500);
  await page.getByRole('button', { name: /execute query/i }).click();
  await page.waitForFunction(() => {
    const cm = document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror;
    return (cm ? cm.getValue() : '').includes('"accountOperations"');
  }, null, { timeout });
  await postMutation(`mutation { creditAccount(input: { id: "${acct.id}", amount: "1.00", description: "from elsewhere" }) { version } }`);
  await page.waitForFunction(() => {
    const cm = document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror;
    return (cm ? cm.getValue() : '').includes('"106.50"');
  }, null, { timeout });
  log('subscription accountOperations -> pushed the credit made by another client (balanceAfter 106.50)');
  await shot('6-subscription');

  if (foreign.length) throw new Error(`requests to other origins: ${foreign.join(', ')}`);
  log('no request left the server\'s origin');
  if (failedRequests.length) log(`failed requests: ${failedRequests.join('; ')}`);
  if (notes.length) log(`note: ${[...new Set(notes)].join('; ')}`);
  if (problems.length) throw new Error(problems.join('\n'));
  log(`OK; screenshots: ${shots.join(' ')}`);
} catch (err) {
  failed = true;
  console.error('playground-check: FAILED:', err.message);
  if (problems.length) console.error(problems.join('\n'));
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages[0]) {
      await pages[0].screenshot({ path: `${shotDir}/playground-failure.png` });
      console.error(`playground-check: screenshot ${shotDir}/playground-failure.png`);
    }
  } catch { /* best effort */ }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
