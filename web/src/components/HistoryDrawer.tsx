import { useEffect, useRef, useState } from 'react';
import { useQuery } from 'urql';
import {
  changedSince,
  describeChange,
  eventTypes,
  sliderVersion,
  toggleType,
  versionText,
  type HistorySource,
  type LastChange,
} from '../lib/history';
import { describeError } from '../lib/errors';
import { formatTime, shortId } from '../lib/format';
import { useDebounced, useOnChange } from '../lib/debounce';

const pageSize = 100;

/**
 * The history drawer of any entity (account, payment, product, order):
 * its last change (who, when, which command), a time-travel slider over
 * its versions showing the entity as it was (what differs from now is
 * marked), and its stored events, filtered by type. `version` is the
 * entity's live version, when the page follows it: the drawer reads again
 * when it moves, and the slider follows it unless a version was picked.
 * Escape or Close closes it.
 */
export function HistoryDrawer<H, A>({
  source,
  id,
  version,
  onClose,
}: {
  source: HistorySource<H, A>;
  id: string;
  version?: number;
  onClose: () => void;
}) {
  const [types, setTypes] = useState<string[]>([]);
  const [first, setFirst] = useState(pageSize);
  const [picked, setPicked] = useState<number | null>(null);
  const [history, reread] = useQuery({
    query: source.history,
    variables: { id, first, types: types.length ? types : null },
    requestPolicy: 'network-only',
  });
  useOnChange(version, () => reread({ requestPolicy: 'network-only' }));
  const entity = history.data ? source.entity(history.data) : null;
  const latest = entity?.version ?? 0;
  // Dragging the slider reads the state once it rests, not at every step.
  const at = sliderVersion(useDebounced(picked, 150), latest);
  const [then] = useQuery({ query: source.at, variables: { id, atVersion: at }, pause: at < 1, requestPolicy: 'network-only' });
  const [now] = useQuery({ query: source.at, variables: { id, atVersion: latest }, pause: latest < 1, requestPolicy: 'network-only' });
  const stateThen = then.data ? source.state(then.data) : null;
  const stateNow = now.data ? source.state(now.data) : null;
  const changed = stateThen && stateNow ? changedSince(stateThen.facts, stateNow.facts) : new Set<string>();

  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const titleId = `history-title-${id}`;
  const shown = sliderVersion(picked, latest);
  return (
    <aside className="drawer" role="dialog" aria-modal="false" aria-labelledby={titleId} data-testid="history">
      <div className="drawer-head">
        <h2 id={titleId} ref={heading} tabIndex={-1}>
          History of {source.noun} {shortId(id)}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close the history">
          Close
        </button>
      </div>
      {history.error && <p role="alert" className="error">{describeError(history.error)}</p>}
      {entity && (
        <>
          <section aria-label="Last change">
            <h3>Last change</h3>
            <LastChangeFacts change={entity.lastChange} />
          </section>
          <section aria-labelledby={`${titleId}-travel`} className="travel">
            <h3 id={`${titleId}-travel`}>Time travel</h3>
            <div className="slider">
              <p>
                <span data-testid="travel-version" id={`${titleId}-version`}>
                  As it was at <strong>version {shown}</strong> of {latest}
                </span>
                {picked !== null && shown !== latest && (
                  <>
                    {' '}
                    <button type="button" className="link" onClick={() => setPicked(null)}>
                      back to now
                    </button>
                  </>
                )}
              </p>
              <input
                type="range"
                min={1}
                max={Math.max(1, latest)}
                step={1}
                value={shown}
                disabled={latest <= 1}
                aria-labelledby={`${titleId}-version`}
                aria-valuetext={versionText(shown, latest, entity.versions)}
                onChange={(e) => {
                  const v = Number(e.target.value);
                  setPicked(v === latest ? null : v);
                }}
              />
            </div>
            {then.error && <p role="alert" className="error">{describeError(then.error)}</p>}
            {stateThen && (
              <dl className="facts" data-testid="travel-state">
                {stateThen.facts.map((f) => (
                  <div key={f.label} className={changed.has(f.label) ? 'changed' : undefined}>
                    <dt>{f.label}</dt>
                    <dd>
                      {f.value}
                      {changed.has(f.label) && <span className="sr-only"> (changed since)</span>}
                    </dd>
                  </div>
                ))}
              </dl>
            )}
            {stateThen && (
              <p className="muted">
                Made by {describeChange(stateThen.lastChange)}
                {changed.size > 0 && ' · marked: differs from now'}
              </p>
            )}
          </section>
          <section aria-labelledby={`${titleId}-events`}>
            <h3 id={`${titleId}-events`}>Events</h3>
            <div className="chips" role="group" aria-label="Show only these event types">
              {eventTypes(entity.versions).map((t) => (
                <button
                  key={t}
                  type="button"
                  className="chip"
                  aria-pressed={types.includes(t)}
                  onClick={() => setTypes((f) => toggleType(f, t))}
                >
                  {t}
                </button>
              ))}
              {types.length > 0 && (
                <button type="button" className="chip chip-clear" onClick={() => setTypes([])}>
                  all types
                </button>
              )}
            </div>
            <ol className="events" data-testid="history-events">
              {entity.events.map((e) => (
                <li key={e.eventId} aria-current={e.version === shown ? 'step' : undefined} data-version={e.version}>
                  <button type="button" className="event-version" onClick={() => setPicked(e.version === latest ? null : e.version)}>
                    v{e.version}
                    <span className="sr-only">: travel to version {e.version}</span>
                  </button>
                  <div>
                    <strong>{e.type}</strong>
                    <div className="muted">
                      {e.metadata.actor ?? 'unknown'} · {formatTime(e.recordedAt)} · position {e.position}
                    </div>
                    <details>
                      <summary>payload</summary>
                      <pre>{JSON.stringify(e.payload, null, 2)}</pre>
                    </details>
                  </div>
                </li>
              ))}
            </ol>
            {entity.hasMore && (
              <button type="button" onClick={() => setFirst((n) => n + pageSize)}>
                Show more
              </button>
            )}
          </section>
        </>
      )}
    </aside>
  );
}

/** A last change as a definition list: who, when, which event, which command. */
export function LastChangeFacts({ change }: { change: LastChange }) {
  return (
    <dl className="facts" data-testid="last-change">
      <dt>Event</dt>
      <dd>{change.type}</dd>
      <dt>By</dt>
      <dd>{change.actor ?? 'unknown'}</dd>
      <dt>When</dt>
      <dd>{formatTime(change.recordedAt)}</dd>
      <dt>Command</dt>
      <dd title={change.commandId ?? undefined}>{change.commandId ? shortId(change.commandId) : '–'}</dd>
      <dt>Correlation</dt>
      <dd title={change.correlationId ?? undefined}>{change.correlationId ? shortId(change.correlationId) : '–'}</dd>
      <dt>Position</dt>
      <dd>{change.position}</dd>
    </dl>
  );
}
