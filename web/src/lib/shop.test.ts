import { describe, expect, it } from 'vitest';
import { addStep, bookInput, draftOrder, nextStep, progress, skuFromTitle, type BookForm, type OrderStep } from './shop';
import { formatAmount, parseAmount, sum, times } from './money';

describe('money', () => {
  it('multiplies and adds decimal strings exactly', () => {
    expect(times('0.10', 3)).toBe('0.30');
    expect(times('12.50', 2)).toBe('25.00');
    expect(sum(['0.10', '0.20'])).toBe('0.30'); // 0.1 + 0.2 in floats is 0.30000000000000004
    expect(sum(['1200', '5'])).toBe('1205');
    expect(sum(['1.250', '0.5'])).toBe('1.750');
    expect(formatAmount(5, 2)).toBe('0.05');
    expect(formatAmount(-150, 2)).toBe('-1.50');
  });
  it('refuses what is not a plain decimal', () => {
    expect(parseAmount('1e3')).toBeNull();
    expect(parseAmount('12,50')).toBeNull();
    expect(sum(['1.00', 'x'])).toBeNull();
  });
});

const form: BookForm = {
  sku: '', title: ' The Left Hand of Darkness ', author: 'Ursula K. Le Guin', pages: '304',
  isbn: '978-0-441-47812-5', price: '12.50', currency: 'eur', description: '',
};

describe('bookInput', () => {
  it('makes addProduct input: a book with author, pages and isbn as attributes', () => {
    expect(bookInput(form)).toEqual({
      input: {
        sku: 'BK-LEFT-HAND-DARKNESS', title: 'The Left Hand of Darkness', category: 'books', price: '12.50', currency: 'EUR',
        description: null, attributes: { author: 'Ursula K. Le Guin', pages: 304, isbn: '9780441478125' },
      },
    });
  });
  it('keeps a SKU that was typed, and leaves out an empty isbn', () => {
    const r = bookInput({ ...form, sku: ' bk-1 ', isbn: '' });
    expect(r).toMatchObject({ input: { sku: 'bk-1', attributes: { author: 'Ursula K. Le Guin', pages: 304 } } });
    expect('input' in r && r.input.attributes).toEqual({ author: 'Ursula K. Le Guin', pages: 304 });
  });
  it('says what to fix before a round trip', () => {
    expect(bookInput({ ...form, title: ' ' })).toEqual({ problem: 'The book needs a title' });
    expect(bookInput({ ...form, pages: '0' })).toMatchObject({ problem: expect.stringMatching(/^Pages/) });
    expect(bookInput({ ...form, pages: '12.5' })).toMatchObject({ problem: expect.stringMatching(/^Pages/) });
    expect(bookInput({ ...form, price: '-1' })).toMatchObject({ problem: expect.stringMatching(/^Price/) });
  });
});

describe('skuFromTitle', () => {
  it('upper-cases the title\'s words, without articles and punctuation, within 64 characters', () => {
    expect(skuFromTitle('A Wizard of Earthsea')).toBe('BK-WIZARD-EARTHSEA');
    expect(skuFromTitle("Ender's Game: 2nd ed.")).toBe('BK-ENDERS-GAME-2ND-ED');
    expect(skuFromTitle('word '.repeat(30)).length).toBeLessThanOrEqual(64);
    expect(skuFromTitle('word '.repeat(30))).not.toMatch(/-$/);
  });
});

const eur = (id: string, amount: string, available = 5) => ({ id, title: id, price: { amount, currency: 'EUR' }, available });

describe('draftOrder', () => {
  it('has the lines of positive quantities and their exact total', () => {
    const d = draftOrder([eur('a', '11.00'), eur('b', '12.50'), eur('c', '0.10')], { a: 2, b: 1, c: 0 });
    expect(d).toEqual({ lines: [{ productId: 'a', quantity: 2 }, { productId: 'b', quantity: 1 }], total: '34.50', currency: 'EUR', problem: null });
  });
  it('needs a line, and one currency', () => {
    expect(draftOrder([eur('a', '1.00')], {}).problem).toMatch(/at least one product/);
    const gbp = { id: 'g', title: 'g', price: { amount: '1.00', currency: 'GBP' }, available: 1 };
    expect(draftOrder([eur('a', '1.00'), gbp], { a: 1, g: 1 }).problem).toBe('One currency per order: these lines are in EUR and GBP');
  });
  it('lets an order ask for more than is available (the process rejects it, and the page says so)', () => {
    expect(draftOrder([eur('a', '1.00', 0)], { a: 3 }).problem).toBeNull();
  });
});

const step = (version: number, status: OrderStep['status']): OrderStep => ({ version, status, updatedAt: `t${version}` });

describe('order steps', () => {
  it('keeps each version once, in order, when orderUpdated replays from PLACED after a reconnect', () => {
    let steps: OrderStep[] = [];
    for (const s of [step(1, 'PLACED'), step(2, 'STOCK_RESERVED'), step(1, 'PLACED'), step(2, 'STOCK_RESERVED'), step(3, 'AWAITING_PAYMENT')]) {
      steps = addStep(steps, s);
    }
    expect(steps.map((s) => s.version)).toEqual([1, 2, 3]);
  });
  it('shows the happy path reached so far, with when', () => {
    const p = progress([step(1, 'PLACED'), step(2, 'STOCK_RESERVED'), step(3, 'AWAITING_PAYMENT')]);
    expect(p.map((s) => [s.status, s.reached, s.at])).toEqual([
      ['PLACED', true, 't1'], ['STOCK_RESERVED', true, 't2'], ['AWAITING_PAYMENT', true, 't3'], ['PAID', false, null], ['SHIPPED', false, null],
    ]);
  });
  it('ends with the way out when rejected or cancelled', () => {
    expect(progress([step(1, 'PLACED'), step(2, 'REJECTED')]).map((s) => s.status)).toEqual(['PLACED', 'REJECTED']);
    expect(progress([step(1, 'PLACED'), step(2, 'STOCK_RESERVED'), step(3, 'AWAITING_PAYMENT'), step(4, 'CANCELLED')]).map((s) => s.status))
      .toEqual(['PLACED', 'STOCK_RESERVED', 'AWAITING_PAYMENT', 'CANCELLED']);
  });
  it('says what happens next, and why an order ended', () => {
    expect(nextStep('AWAITING_PAYMENT', null)).toMatch(/Waiting for the payment/);
    expect(nextStep('REJECTED', 'OUT_OF_STOCK')).toBe('Not enough units in stock for every line.');
    expect(nextStep('CANCELLED', 'PAYMENT_TIMEOUT')).toBe('Its payment did not come in time.');
  });
});
