import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesPoint {
  /** Bucket start, RFC 3339. */
  start: string;
  payments: number;
  processed: number;
  refunded: number;
  failed: number;
}

/** toColumns turns points into uPlot's columns: seconds, then one array per series. */
export function toColumns(points: SeriesPoint[]): uPlot.AlignedData {
  return [
    points.map((p) => Date.parse(p.start) / 1000),
    points.map((p) => p.payments),
    points.map((p) => p.processed),
    points.map((p) => p.refunded),
    points.map((p) => p.failed),
  ];
}

/**
 * A line chart of payment counts per bucket (uPlot, on a canvas). The
 * canvas is described to assistive technology by `label`; the numbers are
 * in the tiles and the table beside it.
 */
export function SeriesChart({ points, label }: { points: SeriesPoint[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(300, el.clientWidth);
    const p = new uPlot(
      {
        width: width(),
        height: 220,
        scales: { x: { time: true } },
        series: [
          {},
          { label: 'payments', stroke: '#1f5fbf', width: 2, points: { show: false } },
          { label: 'processed', stroke: '#187a3c', width: 2, points: { show: false } },
          { label: 'refunded', stroke: '#8a4b00', width: 2, points: { show: false } },
          { label: 'failed', stroke: '#b3261e', width: 2, points: { show: false } },
        ],
        axes: [{}, { label: 'payments' }],
      },
      toColumns([]),
      el,
    );
    plot.current = p;
    const onResize = () => p.setSize({ width: width(), height: 220 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      p.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(toColumns(points));
  }, [points]);
  return <div ref={box} className="chart" role="img" aria-label={label} />;
}
