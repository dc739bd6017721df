import type { AnalyticsBucket, DashboardAnalyticsSubscription } from '../gql/graphql';
import type { SeriesPoint } from '../components/SeriesChart';

/** The windows the dashboard offers, relative to now. */
export const windows: { id: string; label: string; last: string; bucket: AnalyticsBucket }[] = [
  { id: '24h', label: 'Last 24 hours', last: '24h', bucket: 'HOUR' },
  { id: '7d', label: 'Last 7 days', last: '7d', bucket: 'HOUR' },
  { id: '30d', label: 'Last 30 days', last: '30d', bucket: 'DAY' },
];

export type Analytics = DashboardAnalyticsSubscription['paymentAnalyticsUpdated'];

const countOf = (byStatus: { status: string; count: number }[], ...statuses: string[]) =>
  byStatus.filter((s) => statuses.includes(s.status)).reduce((n, s) => n + s.count, 0);

/** The chart's points: counts per bucket. */
export function seriesPoints(a: Analytics): SeriesPoint[] {
  return a.series.map((p) => ({
    start: p.start,
    payments: p.totals.payments,
    processed: countOf(p.totals.byStatus, 'PROCESSED', 'PARTIALLY_REFUNDED', 'REFUNDED'),
    refunded: countOf(p.totals.byStatus, 'PARTIALLY_REFUNDED', 'REFUNDED'),
    failed: countOf(p.totals.byStatus, 'FAILED'),
  }));
}

