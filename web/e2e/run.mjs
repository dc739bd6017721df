#!/usr/bin/env node
// Browser end-to-end test of the web app, as users in two browser windows
// would use it: it builds the server (go build), starts it on a free port
// with a database of its own, drives Debian's chromium through
// playwright-core, and checks:
//
//   - a payment initiated in one context shows in the other's dashboard,
//     and a credit in the other's operations feed, each within 2 s and
//     without a reload;
//   - a server restart under an open accounts page: the page says it is
//     reconnecting, and the feed resumes with no gap and nothing twice;
//   - a book added in one context shows in the other's catalog, a restock
//     in its stock, an account opened in its list, within 2 s; an order
//     placed from the catalog is followed live to SHIPPED, and one the
//     stock cannot cover to REJECTED;
//   - the history drawer (payment, account, product, order): last change,
//     events by type, the time-travel slider;
//   - organization B never shows organization A's data;
//   - axe-core on every page: no serious or critical violation.
//
// Screenshots of every page go to $WEB_SCREENSHOTS (docs/ with
// `make web-screenshots`), else to a temporary directory. Run by
// `make test-web` (which installs chromium and the npm packages first).
// Exits non-zero on any failure.

import { mkdtempSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { harness } from './harness.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const shotDir = process.env.WEB_SCREENSHOTS ? resolve(process.env.WEB_SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'web-e2e-'));
mkdirSync(shotDir, { recursive: true });
const live = 2_000; // what "live" means here: shown within 2 s, no reload

const log = (...a) => console.log('web-e2e:', ...a);
let passed = 0;
let failed = 0;
const check = async (name, fn) => {
  try {
    await fn();
    passed++;
    log('ok  ', name);
  } catch (err) {
    failed++;
    log('FAIL', name, '\n     ', err?.message?.split('\n').slice(0, 6).join('\n      '));
  }
};
const assert = (cond, msg) => {
  if (!cond) throw new Error(msg);
};

const h = await harness(log);
const { base, gql, mint, newPage, signIn, startServer, stopServer, pageErrors } = h;
// Each run has a database of its own: the organizations need no suffix.
const orgA = 'acme';
const orgB = 'globex';

const axeCheck = async (page, name) => {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
  });
  assert(result.length === 0, `${name}: ${result.join('; ')}`);
};
const shot = (page, name) => page.screenshot({ path: join(shotDir, `web-${name}.png`), fullPage: true });
// The README's picture of the demo: two windows side by side, each with
// its caption, drawn by the browser itself.
const twoWindows = async (left, right, leftCaption, rightCaption, name) => {
  const [a, b] = await Promise.all([left.screenshot(), right.screenshot()]);
  const page = await left.context().browser().newPage({ viewport: { width: 1800, height: 720 } });
  const img = (buf, caption) =>
    `<figure><img src="data:image/png;base64,${buf.toString('base64')}" alt=""><figcaption>${caption}</figcaption></figure>`;
  await page.setContent(`<!doctype html><style>
      body { margin: 0; padding: 16px; background: #d9dee7; font: 18px system-ui, sans-serif; display: flex; gap: 16px; }
      figure { margin: 0; flex: 1; background: #fff; border-radius: 8px; overflow: hidden; box-shadow: 0 4px 14px rgba(0,0,0,.18); }
      img { display: block; width: 100%; }
      figcaption { padding: 8px 12px; color: #14213d; font-weight: 600; }
    </style>${img(a, leftCaption)}${img(b, rightCaption)}`);
  await page.locator('img').nth(1).evaluate((i) => i.decode());
  await page.screenshot({ path: join(shotDir, `web-${name}.png`), fullPage: true });
  await page.close();
};
const tileCount = async (page) => Number(await page.getByTestId('tile-payments').textContent());
const feedVersions = (page) =>
  page.getByTestId('operations').locator('li').evaluateAll((lis) => lis.map((li) => Number(li.dataset.version)));

try {
  await startServer();
  await h.launch();
  const one = await newPage('one');
  const two = await newPage('two');
  const other = await newPage('other-org');

  await check('sign-in page has no serious accessibility violations', async () => {
    await one.goto(`${base}/app/`);
    await one.getByRole('heading', { name: 'Sign in to Chronicle' }).waitFor();
    await axeCheck(one, 'sign-in');
    await shot(one, 'signin');
  });

  await signIn(one, 'alice', orgA);
  await signIn(two, 'bob', orgA);
  await signIn(other, 'carol', orgB);

  await check('a payment initiated in one window shows in the other within 2 s', async () => {
    await two.getByTestId('tile-payments').waitFor();
    const before = await tileCount(two);
    await one.getByLabel('Customer').fill('Grace Hopper');
    await one.getByLabel('Amount').fill('42.00');
    await one.getByRole('button', { name: 'Initiate' }).click();
    await one.getByTestId('selected-status').filter({ hasText: 'INITIATED' }).waitFor();
    await two.getByTestId('tile-payments').filter({ hasText: String(before + 1) }).waitFor({ timeout: live });
    await two.getByTestId('latest-payments').getByText('Grace Hopper').waitFor({ timeout: live });
  });

  await check('processing and refunding show live; a refused action shows its code as text', async () => {
    await one.getByRole('button', { name: 'Process' }).click();
    await one.getByTestId('selected-status').filter({ hasText: 'PROCESSED' }).waitFor({ timeout: live });
    await two.getByTestId('latest-payments').getByText('PROCESSED').waitFor({ timeout: live });
    await one.getByRole('button', { name: 'Fail' }).click();
    await one.getByTestId('action-error').filter({ hasText: 'not in a state that allows this' }).waitFor({ timeout: live });
    await one.getByLabel('Refund amount').fill('2.00');
    await one.getByRole('button', { name: 'Refund' }).click();
    await one.getByTestId('selected-status').filter({ hasText: 'PARTIALLY_REFUNDED' }).waitFor({ timeout: live });
    await two.getByTestId('tiles').getByText('2.00 (1)', { exact: true }).waitFor({ timeout: live });
  });

  await check('the payment\'s history drawer: last change, events by type, and the payment as it was', async () => {
    await one.getByTestId('selected-payment').getByRole('button', { name: 'History' }).click();
    const drawer = one.getByTestId('history');
    await drawer.getByTestId('last-change').getByText('PaymentRefunded').waitFor();
    await drawer.getByTestId('last-change').getByText('alice').waitFor();
    await drawer.getByTestId('travel-version').filter({ hasText: 'version 3' }).waitFor();
    await drawer.getByTestId('travel-state').getByText('PARTIALLY_REFUNDED').waitFor();
    await drawer.getByRole('slider').focus();
    await one.keyboard.press('Home');
    await drawer.getByTestId('travel-version').filter({ hasText: 'version 1' }).waitFor();
    await drawer.getByTestId('travel-state').getByText('INITIATED').waitFor({ timeout: live });
    assert((await drawer.locator('.changed').count()) > 0, 'time travel marks nothing as changed since');
    await drawer.getByRole('button', { name: 'PaymentProcessed' }).click();
    await drawer.getByTestId('history-events').locator('li').first().filter({ hasText: 'PaymentProcessed' }).waitFor();
    assert((await drawer.getByTestId('history-events').locator('li').count()) === 1, 'the type filter shows other events');
    await axeCheck(one, 'payment history');
    await shot(one, 'history');
    await one.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
  });

  await check('payments dashboard has no serious accessibility violations', async () => {
    // A few more payments, so that the screenshot shows a dashboard in use.
    const token = await mint('alice', orgA);
    const seeded = [['Alan Turing', '120.00', 'GBP', 'process'], ['Ada Lovelace', '80.00', 'EUR', 'process'],
      ['Edsger Dijkstra', '15.50', 'EUR', 'fail'], ['Barbara Liskov', '64.00', 'GBP', null]];
    for (const [customerName, amount, currency, then] of seeded) {
      const d = await gql(token, 'mutation($i: InitiatePaymentInput!) { initiatePayment(input: $i) { paymentId } }', {
        i: { customerName, customerEmail: 'e2e@example.com', amount, currency },
      });
      const id = d.initiatePayment.paymentId;
      if (then === 'process') await gql(token, 'mutation($i: ProcessPaymentInput!) { processPayment(input: $i) { version } }', { i: { id } });
      if (then === 'fail') await gql(token, 'mutation($i: FailPaymentInput!) { failPayment(input: $i) { version } }', { i: { id, reason: 'card declined' } });
    }
    await one.getByTestId('tile-payments').filter({ hasText: '5' }).waitFor({ timeout: live });
    await one.getByTestId('latest-payments').getByText('Barbara Liskov').waitFor({ timeout: live });
    await axeCheck(one, 'payments');
    await shot(one, 'payments');
  });

  let accountId;
  await check('a credit in one window shows in the other window\'s feed within 2 s', async () => {
    await one.getByRole('link', { name: 'Accounts' }).click();
    await one.getByLabel('Owner').fill('Ada');
    await one.getByRole('button', { name: 'Open', exact: true }).click();
    await one.getByTestId('balance').waitFor();
    accountId = new URL(one.url()).searchParams.get('account');
    assert(accountId, 'no account id in the address');
    await two.goto(`${base}/app/accounts?account=${accountId}`);
    await two.getByTestId('balance').filter({ hasText: '100.00 EUR' }).waitFor();
    await one.getByLabel('Amount').fill('25.50');
    await one.getByLabel('Description').fill('salary');
    await one.getByRole('button', { name: 'Credit' }).click();
    await two.getByTestId('operations').getByText('salary').waitFor({ timeout: live });
    await two.getByTestId('balance').filter({ hasText: '125.50 EUR' }).waitFor({ timeout: live });
    await one.getByLabel('Amount').fill('1000.00');
    await one.getByRole('button', { name: 'Debit' }).click();
    await one.getByTestId('action-error').filter({ hasText: 'Not enough money' }).waitFor({ timeout: live });
  });

  await check('an account opened in one window shows in the other\'s list within 2 s', async () => {
    await one.getByLabel('Owner').fill('Grace');
    await one.getByLabel('Initial balance').fill('7.00');
    await one.getByRole('button', { name: 'Open', exact: true }).click();
    await two.getByTestId('accounts').getByText('Grace').waitFor({ timeout: live });
    await one.goto(`${base}/app/accounts?account=${accountId}`);
    await one.getByTestId('balance').filter({ hasText: '125.50 EUR' }).waitFor();
  });

  await check('accounts page (with the history drawer) has no serious accessibility violations', async () => {
    await one.getByRole('button', { name: 'History' }).click();
    const drawer = one.getByTestId('history');
    await drawer.getByTestId('history-events').getByText('AccountCredited').first().waitFor();
    await drawer.getByTestId('last-change').getByText('AccountCredited').waitFor();
    await drawer.getByTestId('travel-state').getByText('125.50 EUR').waitFor();
    await drawer.getByRole('slider').focus();
    await one.keyboard.press('ArrowLeft');
    await drawer.getByTestId('travel-state').getByText('100.00 EUR').waitFor({ timeout: live });
    // Live: a credit moves the drawer's latest version; the pick stays.
    const token = await mint('alice', orgA);
    await gql(token, 'mutation($i: CreditAccountInput!) { creditAccount(input: $i) { version } }', { i: { id: accountId, amount: '0.50', description: 'tip' } });
    await drawer.getByTestId('travel-version').filter({ hasText: 'of 3' }).waitFor({ timeout: live });
    await drawer.getByTestId('travel-state').getByText('100.00 EUR').waitFor();
    await axeCheck(one, 'accounts with the history drawer');
    await shot(one, 'accounts-history');
    await drawer.getByRole('button', { name: 'Close the history' }).click();
    await axeCheck(one, 'accounts');
    await shot(one, 'accounts');
  });

  await check('after a server restart the feed resumes with no gap and nothing twice', async () => {
    const token = await mint('alice', orgA);
    const credit = (n) =>
      gql(token, 'mutation($i: CreditAccountInput!) { creditAccount(input: $i) { version } }', {
        i: { id: accountId, amount: `${n}.00`, description: `restart ${n}` },
      });
    await credit(1);
    await two.getByTestId('operations').getByText('restart 1').waitFor({ timeout: live });
    const before = await feedVersions(two);
    await stopServer();
    await two.getByTestId('connection').filter({ hasText: 'reconnecting' }).waitFor({ timeout: 10_000 });
    await two.getByTestId('feed-state').filter({ hasText: 'reconnecting' }).waitFor();
    await startServer();
    // Written while the page is (most likely) still waiting to reconnect.
    await credit(2);
    await credit(3);
    await two.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });
    await two.getByTestId('operations').getByText('restart 3').waitFor({ timeout: 10_000 });
    await credit(4);
    await two.getByTestId('operations').getByText('restart 4').waitFor({ timeout: live });
    const after = await feedVersions(two);
    assert(after.length === new Set(after).size, `an operation was shown twice: versions ${after}`);
    for (let i = 1; i < after.length; i++) {
      assert(after[i] === after[i - 1] + 1, `a gap or disorder in the feed: versions ${after}`);
    }
    assert(after.length === before.length + 3, `expected ${before.length + 3} operations, got versions ${after}`);
  });

  const book = { title: 'The Dispossessed', author: 'Ursula K. Le Guin', pages: '387' };
  await check('a book added in one window shows in the other within 2 s, without reload', async () => {
    await one.getByRole('link', { name: 'Catalog' }).click();
    await two.getByRole('link', { name: 'Catalog' }).click();
    await one.getByText('No products yet').waitFor();
    await two.getByText('No products yet').waitFor();
    // Let the second window's productAdded subscription be acknowledged.
    await two.waitForTimeout(300);
    const form = one.getByTestId('add-book');
    await form.getByLabel('Title', { exact: true }).fill(book.title);
    await form.getByLabel('Author').fill(book.author);
    await form.getByLabel('Pages').fill(book.pages);
    await form.getByLabel('Price').fill('11.00');
    await form.getByRole('button', { name: 'Add the book' }).click();
    await two.getByTestId('products').getByText(book.title).waitFor({ timeout: live });
    await two.getByTestId('categories').getByRole('button', { name: 'books 1' }).waitFor({ timeout: live });
    await one.getByTestId('products').getByText(book.title).waitFor({ timeout: live });
    await twoWindows(one, two, 'alice adds a book…', '…and bob\'s window shows it at once, without a reload', 'two-windows');
    // The same SKU again (made from the same title) is refused, as text.
    await form.getByRole('button', { name: 'Add the book' }).click();
    await form.getByTestId('action-error').filter({ hasText: 'has this SKU already' }).waitFor({ timeout: live });
  });

  await check('restocking shows live in the other window; search finds by words', async () => {
    const token = await mint('alice', orgA);
    for (const [sku, title, price, pages] of [['BK-LHOD', 'The Left Hand of Darkness', '12.50', 304], ['BK-EARTH', 'A Wizard of Earthsea', '8.90', 183]]) {
      await gql(token, 'mutation($i: AddProductInput!) { addProduct(input: $i) { productId } }', {
        i: { sku, title, category: 'books', price, currency: 'EUR', description: 'An envoy on a winter planet.', attributes: { author: 'Ursula K. Le Guin', pages } },
      });
    }
    await two.getByTestId('products').getByText('A Wizard of Earthsea').waitFor({ timeout: live });
    const row = (page, title) => page.getByTestId('products').locator('tr', { hasText: title });
    await row(one, book.title).getByLabel(`Units to add to ${book.title}`).fill('10');
    await row(one, book.title).getByRole('button', { name: `Restock ${book.title}` }).click();
    await row(two, book.title).getByTestId('stock').filter({ hasText: '10 available' }).waitFor({ timeout: live });
    await row(one, 'The Left Hand of Darkness').getByRole('button', { name: /^Restock/ }).click();
    await row(one, 'The Left Hand of Darkness').getByTestId('stock').filter({ hasText: '10 available' }).waitFor({ timeout: live });
    await two.getByLabel('Search').fill('wizard');
    await two.getByTestId('products').locator('tbody tr').filter({ hasText: 'Earthsea' }).waitFor();
    await two.waitForFunction(() => document.querySelectorAll('[data-testid=products] tbody tr').length === 1, null, { timeout: live });
    await two.getByLabel('Search').fill('');
  });

  await check('the product\'s history drawer: its last change and its stock as it stood', async () => {
    await one.getByRole('button', { name: `History of ${book.title}` }).click();
    const drawer = one.getByTestId('history');
    await drawer.getByTestId('last-change').getByText('ProductAdded').waitFor();
    await drawer.getByTestId('last-change').getByText('alice').waitFor();
    await drawer.getByTestId('travel-state').getByText('Ursula K. Le Guin').waitFor();
    await drawer.getByTestId('travel-state').getByText(/available/).waitFor();
    await axeCheck(one, 'product history');
    await drawer.getByRole('button', { name: 'Close the history' }).click();
    await drawer.waitFor({ state: 'detached' });
  });

  await check('catalog page has no serious accessibility violations', async () => {
    const form = one.getByTestId('add-book');
    await form.getByLabel('Title', { exact: true }).fill('The Lathe of Heaven');
    await form.getByLabel('Pages').fill('184');
    await form.getByLabel('Price').fill('9.50');
    await form.getByLabel('ISBN').fill('978-0-06-105488-4');
    await form.getByRole('button', { name: 'Add the book' }).click();
    await form.getByRole('status').filter({ hasText: 'The Lathe of Heaven' }).waitFor({ timeout: live });
    await one.getByTestId('products').locator('tbody tr').nth(3).waitFor();
    await axeCheck(one, 'catalog');
    await shot(one, 'catalog');
  });

  let orderId;
  await check('an order placed from the catalog is followed live to its final state', async () => {
    await one.getByRole('link', { name: 'Orders' }).click();
    await two.getByRole('link', { name: 'Orders' }).click();
    const form = one.getByTestId('place-order');
    await form.getByLabel(`Quantity of ${book.title}`).fill('2');
    await form.getByLabel('Quantity of The Left Hand of Darkness').fill('1');
    await form.getByTestId('draft-total').filter({ hasText: '34.50 EUR' }).waitFor();
    await form.getByRole('button', { name: 'Place the order' }).click();
    const status = one.getByTestId('order-status');
    // The fulfilment process reserves the stock and asks for the payment.
    await status.filter({ hasText: 'Awaiting payment' }).waitFor({ timeout: 5_000 });
    orderId = new URL(one.url()).searchParams.get('order');
    assert(orderId, 'no order id in the address');
    await two.getByTestId('orders').getByText('Awaiting payment').waitFor({ timeout: live });
    await one.getByRole('button', { name: 'Process the payment' }).click();
    await status.filter({ hasText: 'Paid' }).waitFor({ timeout: 5_000 });
    await one.getByRole('button', { name: 'Ship' }).click();
    await status.filter({ hasText: 'Shipped' }).waitFor({ timeout: live });
    const reached = await one.locator('.stepper .step.reached').count();
    assert(reached === 5, `the stepper shows ${reached} of 5 steps reached`);
    // Every version once, in order.
    const versions = await one.locator('.versions li').evaluateAll((lis) => lis.map((li) => li.textContent.split(' ')[0]));
    assert(versions.join() === 'v1,v2,v3,v4,v5', `versions pushed: ${versions}`);
    await two.getByTestId('orders').getByText('Shipped').waitFor({ timeout: live });
  });

  await check('the order\'s history drawer: the process\'s steps and the customer\'s, and the order as it was', async () => {
    await one.getByTestId('order-detail').getByRole('button', { name: 'History' }).click();
    const drawer = one.getByTestId('history');
    await drawer.getByTestId('last-change').getByText('OrderShipped').waitFor();
    await drawer.getByTestId('history-events').locator('li', { hasText: 'OrderStockReserved' }).getByText(/process:fulfilment/).waitFor();
    await drawer.getByRole('slider').focus();
    await one.keyboard.press('Home');
    await one.keyboard.press('ArrowRight');
    await one.keyboard.press('ArrowRight');
    await drawer.getByTestId('travel-version').filter({ hasText: 'version 3 of 5' }).waitFor();
    await drawer.getByTestId('travel-state').getByText('AWAITING_PAYMENT').waitFor({ timeout: live });
    await axeCheck(one, 'order history');
    await shot(one, 'orders-history');
    await one.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
  });

  await check('an order the stock cannot cover is rejected, said in words', async () => {
    const form = one.getByTestId('place-order');
    await form.getByLabel('Quantity of A Wizard of Earthsea').fill('3');
    await form.getByRole('button', { name: 'Place the order' }).click();
    await one.getByTestId('order-status').filter({ hasText: 'not enough units in stock' }).waitFor({ timeout: 5_000 });
    await one.getByRole('button', { name: 'Cancel the order' }).waitFor({ state: 'detached' });
  });

  await check('orders page has no serious accessibility violations', async () => {
    await one.goto(`${base}/app/orders?order=${orderId}`);
    await one.getByTestId('order-status').filter({ hasText: 'Shipped' }).waitFor();
    await one.getByTestId('orders').locator('tbody tr').nth(1).waitFor();
    await axeCheck(one, 'orders');
    await shot(one, 'orders');
  });

  await check('organization B never shows organization A\'s data', async () => {
    await other.getByTestId('tile-payments').waitFor();
    assert((await tileCount(other)) === 0, 'B sees payments');
    assert((await other.getByText('Grace Hopper').count()) === 0, "B sees A's payment");
    await other.getByRole('link', { name: 'Accounts' }).click();
    await other.getByText('No accounts yet').waitFor();
    await other.goto(`${base}/app/accounts?account=${accountId}`);
    await other.getByText('Not found in this organization').first().waitFor();
    assert((await other.getByTestId('balance').count()) === 0, "B sees A's balance");
    assert((await other.getByTestId('operations').locator('li').count()) === 0, "B sees A's operations");
    await other.getByRole('link', { name: 'Catalog' }).click();
    await other.getByText('No products yet').waitFor();
    assert((await other.getByText(book.title).count()) === 0, "B sees A's book");
    await other.getByRole('link', { name: 'Orders' }).click();
    await other.getByText('No orders yet').waitFor();
    await other.goto(`${base}/app/orders?order=${orderId}`);
    await other.getByText('Not found in this organization').first().waitFor();
    assert((await other.getByTestId('order-status').count()) === 0, "B sees A's order");
    // Switching organization in a signed-in window switches everything.
    await two.getByRole('link', { name: 'Payments' }).click();
    await two.getByTestId('tile-payments').filter({ hasText: '6' }).waitFor();
    await two.getByRole('textbox', { name: 'Organization' }).fill(orgB);
    await two.getByRole('button', { name: 'Switch' }).click();
    await two.getByTestId('identity').filter({ hasText: orgB }).waitFor();
    await two.getByTestId('tile-payments').filter({ hasText: '0' }).waitFor();
    assert((await two.getByText('Grace Hopper').count()) === 0, "after the switch, A's payment still shows");
  });

  await check('the badge says offline while the browser is, and live after', async () => {
    await other.context().setOffline(true);
    await other.getByTestId('connection').filter({ hasText: 'offline' }).waitFor({ timeout: live });
    await other.context().setOffline(false);
    await other.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 });
  });

  await check('no page error in any window', async () => {
    assert(pageErrors.length === 0, pageErrors.join('; '));
  });

} catch (err) {
  failed++;
  log('FAIL', err?.stack ?? err);
} finally {
  await h.close();
  log(`screenshots in ${shotDir}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
