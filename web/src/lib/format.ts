/** Formats an RFC 3339 time as the viewer's local date and time. */
export function formatTime(t: string): string {
  return new Date(t).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** Formats a money amount (a decimal string) with its currency code. */
export function formatMoney(m: { amount: string; currency?: string } | null | undefined, currency?: string): string {
  if (!m) return '–';
  return `${m.amount} ${m.currency ?? currency ?? ''}`.trim();
}

/**
 * The short form of an id, for lists: its last 8 characters. The ids are
 * UUIDv7, whose first characters are the time they were made: ids made
 * within a minute share them, while the end is random.
 */
export function shortId(id: string): string {
  return id.slice(-8);
}
