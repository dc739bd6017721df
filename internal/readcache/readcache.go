// Package readcache is a Redis read-through cache for read models that is
// never stale for a reader who has seen a write.
//
// Entries are keyed by (projection, key), the same keys a projection
// announces for a committed batch (projection.Update), so invalidating a
// batch is exact: the keys it changed, nothing else.
//
// Why not "delete after commit": a reader that read the database just
// before the commit can write its old value back after the delete, and it
// then stays. Instead every entry is versioned by the projection checkpoint
// of the snapshot it was read from, and every key has a floor, the
// checkpoint of the last change to it:
//
//   - Invalidate(cp, keys) raises each key's floor to cp (never lowers it)
//     and drops a value older than the new floor;
//   - a value is served only if its checkpoint is at or past the floor;
//   - Fill stores a value only if its checkpoint is at or past the floor
//     (atomically, in a Lua script), so a late writer cannot bring an old
//     value back.
//
// Read-your-writes: a command's service, after the projection has passed
// its events (read-your-writes wait), invalidates its keys with the
// events' own checkpoint before returning the payload. From then on every
// reader, on any instance, sees the floor and gets a value that includes
// the write. The projection's announcements invalidate too (InvalidatingBroker),
// before subscribers are rung, for writes whose command did not wait.
//
// Keys live for TTL after their last write. A fill whose database read
// began more than TTL/2 ago is dropped, so a floor can never expire before a
// value read before it was set is written. Redis errors never fail a read:
// it falls back to the database (counted as a miss) and the error is logged.
package readcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/redis/go-redis/v9"
)

// Counter counts cache lookups (implemented by *metrics.Metrics).
type Counter interface {
	CacheResult(cache string, hit bool)
}

// Cache is a read-through cache on Redis. A nil *Cache is valid and caches
// nothing: every read goes to the database (servers without REDIS_URL).
type Cache struct {
	rdb     redis.UniversalClient
	prefix  string
	ttl     time.Duration
	counter Counter
	logger  *slog.Logger
}

// New returns a cache on rdb whose Redis keys start with prefix (e.g.
// "chronicle:<db>:cache:"). ttl bounds how long an entry lives after its
// last write (at least 2 s). counter may be nil.
func New(rdb redis.UniversalClient, prefix string, ttl time.Duration, counter Counter, logger *slog.Logger) *Cache {
	if ttl < 2*time.Second {
		ttl = 2 * time.Second
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Cache{rdb: rdb, prefix: prefix, ttl: ttl, counter: counter, logger: logger}
}

// redisKey is the Redis hash of (projection, key).
func (c *Cache) redisKey(projectionName, key string) string {
	return c.prefix + projectionName + ":" + key
}

// The hash of one key has fields ftx/fpos (the floor) and vtx/vpos/val (the
// value and the checkpoint it was read at). Checkpoint parts are decimal
// strings; Lua compares them as numbers, exact below 2^53, far beyond any
// transaction id or position a database reaches.

// invalidateScript: KEYS = hashes; ARGV = tx, pos, ttl ms.
var invalidateScript = redis.NewScript(`
local tx, pos = tonumber(ARGV[1]), tonumber(ARGV[2])
for _, k in ipairs(KEYS) do
  local f = redis.call('HMGET', k, 'ftx', 'fpos', 'vtx', 'vpos')
  local ftx, fpos = tonumber(f[1] or '-1'), tonumber(f[2] or '-1')
  if tx > ftx or (tx == ftx and pos > fpos) then
    redis.call('HSET', k, 'ftx', ARGV[1], 'fpos', ARGV[2])
    ftx, fpos = tx, pos
  end
  if f[3] then
    local vtx, vpos = tonumber(f[3]), tonumber(f[4])
    if vtx < ftx or (vtx == ftx and vpos < fpos) then
      redis.call('HDEL', k, 'vtx', 'vpos', 'val')
    end
  end
  redis.call('PEXPIRE', k, ARGV[3])
end
return 0`)

// fillScript: KEYS = [hash]; ARGV = tx, pos, value, ttl ms. It stores the
// value unless the floor or a stored value is newer.
var fillScript = redis.NewScript(`
local tx, pos = tonumber(ARGV[1]), tonumber(ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'ftx', 'fpos', 'vtx', 'vpos')
local ftx, fpos = tonumber(f[1] or '-1'), tonumber(f[2] or '-1')
if tx < ftx or (tx == ftx and pos < fpos) then return 0 end
if f[3] then
  local vtx, vpos = tonumber(f[3]), tonumber(f[4])
  if tx < vtx or (tx == vtx and pos <= vpos) then return 0 end
end
redis.call('HSET', KEYS[1], 'vtx', ARGV[1], 'vpos', ARGV[2], 'val', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`)

// Invalidate raises the floor of (projectionName, key) for each key to cp,
// the checkpoint of a change to it: from then on only values read at cp or
// later are served. Errors: Redis errors (then entries may be stale until
// the next invalidation of the key or its TTL).
func (c *Cache) Invalidate(ctx context.Context, projectionName string, cp eventstore.Checkpoint, keys ...string) error {
	if c == nil || len(keys) == 0 {
		return nil
	}
	hashes := make([]string, len(keys))
	for i, k := range keys {
		hashes[i] = c.redisKey(projectionName, k)
	}
	err := invalidateScript.Run(ctx, c.rdb, hashes,
		strconv.FormatUint(cp.TransactionID, 10), strconv.FormatInt(cp.Position, 10), c.ttl.Milliseconds()).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("readcache: invalidate %d keys of %s: %w", len(keys), projectionName, err)
	}
	return nil
}

// get returns the fresh cached values of keys (absent: a miss).
func (c *Cache) get(ctx context.Context, projectionName string, keys []string) map[string][]byte {
	out := make(map[string][]byte, len(keys))
	cmds := make([]*redis.SliceCmd, len(keys))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, c.redisKey(projectionName, k), "ftx", "fpos", "vtx", "vpos", "val")
		}
		return nil
	})
	if err != nil {
		c.logger.WarnContext(ctx, "read cache unavailable: reading the database", "err", err)
		return out
	}
	for i, cmd := range cmds {
		f := cmd.Val()
		if len(f) != 5 || f[2] == nil || f[4] == nil {
			continue
		}
		floor, value := checkpointOf(f[0], f[1]), checkpointOf(f[2], f[3])
		if value.Compare(floor) >= 0 {
			if s, ok := f[4].(string); ok {
				out[keys[i]] = []byte(s)
			}
		}
	}
	return out
}

// checkpointOf parses the two fields of a checkpoint; absent is the zero
// checkpoint (a floor that allows everything).
func checkpointOf(tx, pos any) eventstore.Checkpoint {
	var cp eventstore.Checkpoint
	if s, ok := tx.(string); ok {
		cp.TransactionID, _ = strconv.ParseUint(s, 10, 64)
	}
	if s, ok := pos.(string); ok {
		cp.Position, _ = strconv.ParseInt(s, 10, 64)
	}
	return cp
}

// fill stores values read at cp, unless the read began too long ago (see
// the package comment). Failures are logged, not returned.
func (c *Cache) fill(ctx context.Context, projectionName string, cp eventstore.Checkpoint, values map[string][]byte, readStart time.Time) {
	if time.Since(readStart) > c.ttl/2 {
		return
	}
	tx, pos, ttl := strconv.FormatUint(cp.TransactionID, 10), strconv.FormatInt(cp.Position, 10), c.ttl.Milliseconds()
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k, v := range values {
			fillScript.Eval(ctx, p, []string{c.redisKey(projectionName, k)}, tx, pos, v, ttl)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		c.logger.WarnContext(ctx, "read cache: fill failed", "projection", projectionName, "err", err)
	}
}

func (c *Cache) count(name string, hit bool, n int) {
	if c.counter == nil {
		return
	}
	for range n {
		c.counter.CacheResult(name, hit)
	}
}

// LoadMany returns the values of keys of projectionName: cached ones from
// Redis, the others from load, which reads all missing keys in one database
// snapshot and returns, with their values, the projection's checkpoint in
// that same snapshot (read in the same statement or transaction: it is what
// versions the values). load must return a value for every key it is given
// (encode absence as a value, e.g. JSON null, so that it is cached too).
// name labels the hit/miss counts (e.g. "payment"). Errors: load's.
func LoadMany(ctx context.Context, c *Cache, name, projectionName string, keys []string,
	load func(ctx context.Context, keys []string) (map[string][]byte, eventstore.Checkpoint, error)) (map[string][]byte, error) {
	if c == nil {
		values, _, err := load(ctx, keys)
		return values, err
	}
	values := c.get(ctx, projectionName, keys)
	c.count(name, true, len(values))
	var missing []string
	for _, k := range keys {
		if _, ok := values[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return values, nil
	}
	c.count(name, false, len(missing))
	start := time.Now()
	loaded, cp, err := load(ctx, missing)
	if err != nil {
		return nil, err
	}
	c.fill(ctx, projectionName, cp, loaded, start)
	for k, v := range loaded {
		values[k] = v
	}
	return values, nil
}

// InvalidatingBroker wraps a live.Broker: before publishing a projection's
// update it invalidates the update's keys at the update's checkpoint, so
// that subscribers, rung after the publish, never read an entry older than
// the change they were rung for. It has live.Broker's methods.
type InvalidatingBroker struct {
	cache  *Cache
	next   broker
	logger *slog.Logger
}

// broker is live.Broker (not imported, to keep this package below live).
type broker interface {
	Publish(ctx context.Context, u projection.Update) error
	Run(ctx context.Context, deliver func(projection.Update), resync func()) error
}

// NewInvalidatingBroker returns next, invalidating c first on each
// publish.
func NewInvalidatingBroker(c *Cache, next broker, logger *slog.Logger) *InvalidatingBroker {
	if logger == nil {
		logger = slog.Default()
	}
	return &InvalidatingBroker{cache: c, next: next, logger: logger}
}

// Publish invalidates u's keys (a failure is logged: the update must still
// ring the subscribers), then publishes u.
func (b *InvalidatingBroker) Publish(ctx context.Context, u projection.Update) error {
	if err := b.cache.Invalidate(ctx, u.Projection, u.Checkpoint, u.Keys...); err != nil {
		b.logger.ErrorContext(ctx, "read cache invalidation failed", "projection", u.Projection, "err", err)
	}
	return b.next.Publish(ctx, u)
}

// Run runs the wrapped broker.
func (b *InvalidatingBroker) Run(ctx context.Context, deliver func(projection.Update), resync func()) error {
	return b.next.Run(ctx, deliver, resync)
}

// Purge drops every entry of projectionName (after a rebuild, when any row
// may have changed). It scans and unlinks the projection's keys in steps of
// 500. A reader that read the old tables and fills after the purge leaves an
// old entry until the key's next change or its TTL. Errors: Redis errors.
func (c *Cache) Purge(ctx context.Context, projectionName string) error {
	if c == nil {
		return nil
	}
	pattern := globEscaper.Replace(c.redisKey(projectionName, "")) + "*"
	iter := c.rdb.Scan(ctx, 0, pattern, 500).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.rdb.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return fmt.Errorf("readcache: purge %s: %w", projectionName, err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("readcache: purge %s: %w", projectionName, err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("readcache: purge %s: %w", projectionName, err)
	}
	return nil
}

// globEscaper quotes the characters special in a Redis SCAN pattern.
var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
