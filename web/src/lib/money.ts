// Exact arithmetic on the API's money amounts (decimal strings in the
// currency's minor units, e.g. "12.50"): integers of minor units, never
// floats.

/** A decimal amount as an integer count of its smallest unit and its number of decimals. */
export interface Minor {
  units: number;
  scale: number;
}

/** Parses "12.50" as 1250 with scale 2; null for what is not a plain decimal. */
export function parseAmount(amount: string): Minor | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) return null;
  const frac = m[3] ?? '';
  const units = Number(m[2] + frac) * (m[1] ? -1 : 1);
  return Number.isSafeInteger(units) ? { units, scale: frac.length } : null;
}

/** Formats minor units with `scale` decimals: 1250, 2 → "12.50". */
export function formatAmount(units: number, scale: number): string {
  const neg = units < 0;
  const digits = String(Math.abs(units)).padStart(scale + 1, '0');
  const whole = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${whole}` : whole;
}

/** quantity × amount, exactly: times("12.50", 3) = "37.50". */
export function times(amount: string, quantity: number): string | null {
  const a = parseAmount(amount);
  return a ? formatAmount(a.units * quantity, a.scale) : null;
}

/** The sum of amounts of one currency (and so one scale); null when one is malformed. */
export function sum(amounts: string[]): string | null {
  let scale = 0;
  const parsed: Minor[] = [];
  for (const s of amounts) {
    const a = parseAmount(s);
    if (!a) return null;
    parsed.push(a);
    scale = Math.max(scale, a.scale);
  }
  const total = parsed.reduce((n, a) => n + a.units * 10 ** (scale - a.scale), 0);
  return formatAmount(total, scale);
}
