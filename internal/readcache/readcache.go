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
//
// # Lost invalidations (partitions, Redis restarts, failovers)
//
// An invalidation that fails (a timeout, a cut connection, an open breaker)
// may or may not have reached Redis, and Redis may come back with the old
// entry still in it (a healed partition; a restart from a snapshot; a
// replica promoted before it got the write). The cache is kept safe by an
// epoch, one counter in Redis (<prefix>epoch):
//
//   - every entry records the epoch it was filled under, and is served only
//     while that is still the current epoch; a fill carries the epoch read
//     before its database read, and is refused once the epoch has moved;
//   - an instance that loses an invalidation is in debt: it uses Redis for
//     nothing (reads go to the database) until it has bumped the epoch
//     (INCR), which hides every entry in Redis at once. The debt is paid
//     only by a bump issued after the loss, so no fill from a read that
//     began before it can survive;
//   - every new connection asks Redis its run_id (OnConnect): the first one
//     of a process, or one that finds another Redis process (a restart, a
//     failover), puts the instance in debt too, since the new Redis may
//     have lost invalidations that were acknowledged.
//
// The instance that lost an invalidation cannot tell the others through
// Redis. It tells them through PostgreSQL (WithOnLost: the server sends a
// NOTIFY before the failed call returns, and every instance that hears it
// calls Distrust and bumps the epoch, which it can if it reaches Redis);
// until the notification arrives (milliseconds) another instance may still
// serve the old entry — see docs/architecture.md, "Read cache".
//
// # Bounds
//
// Every Redis call is bounded: the Redis time of one LoadMany (bump, read
// and fill together) or one Invalidate is at most the timeout (WithTimeout,
// DefaultTimeout), and a circuit breaker skips Redis altogether after
// consecutive failures, for a cool-down, before one call probes it again.
// The client must honour context deadlines (redis.Options
// ContextTimeoutEnabled, see ClientOptions), or a hung Redis holds a call
// until the client's own read timeout.
package readcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/redis/go-redis/v9"
)

// DefaultTimeout is the Redis time one cache operation may take when
// WithTimeout is not given.
const DefaultTimeout = 100 * time.Millisecond

// Breaker defaults: consecutive failures that open it, and how long it
// stays open before a probe.
const (
	DefaultBreakerFailures = 3
	DefaultBreakerCooldown = time.Second
)

// ErrUnavailable is returned (wrapped) by Invalidate and Purge while the
// circuit breaker is open or the epoch could not be bumped: Redis was not
// asked.
var ErrUnavailable = errors.New("readcache: redis unavailable")

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
	timeout time.Duration
	breaker *breaker
	counter Counter
	logger  *slog.Logger

	// lost counts the invalidations that may have been lost (and the Redis
	// lifetimes seen begin); paid is the value of lost read before the last
	// successful epoch bump. The cache is in debt while lost > paid.
	lost, paid atomic.Int64
	runMu      sync.Mutex
	runID      string // the Redis process last seen by OnConnect
	// onLost, when set, is called after each lost invalidation (WithOnLost).
	onLost func(ctx context.Context)
}

// Option tunes a Cache.
type Option func(*Cache)

// WithTimeout bounds the Redis time of one cache operation (d > 0).
func WithTimeout(d time.Duration) Option {
	return func(c *Cache) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithBreaker sets the circuit breaker: after failures consecutive Redis
// failures it stays open (Redis is not asked) for cooldown, then lets one
// call probe. Values <= 0 keep the defaults.
func WithBreaker(failures int, cooldown time.Duration) Option {
	return func(c *Cache) {
		if failures > 0 {
			c.breaker.failures = failures
		}
		if cooldown > 0 {
			c.breaker.cooldown = cooldown
		}
	}
}

// WithOnLost sets f, called (synchronously, before the failed Invalidate or
// Purge returns) each time the cache loses an invalidation: the server uses
// it to tell the other instances, through PostgreSQL, to Distrust their
// caches, since this one cannot reach Redis to bump the epoch itself. f must
// bound its own time.
func WithOnLost(f func(ctx context.Context)) Option {
	return func(c *Cache) { c.onLost = f }
}

// Distrust puts the cache in debt (see the package comment): another
// instance lost an invalidation, or news of one may have been missed. A nil
// cache does nothing.
func (c *Cache) Distrust() {
	if c != nil {
		c.lost.Add(1)
	}
}

// lose records a lost invalidation and reports it.
func (c *Cache) lose(ctx context.Context) {
	c.lost.Add(1)
	if c.onLost != nil {
		c.onLost(ctx)
	}
}

// New returns a cache on rdb whose Redis keys start with prefix (e.g.
// "chronicle:<db>:cache:"). ttl bounds how long an entry lives after its
// last write (at least 2 s). counter may be nil. rdb should be configured
// with ClientOptions, and its OnConnect should call the cache's OnConnect.
func New(rdb redis.UniversalClient, prefix string, ttl time.Duration, counter Counter, logger *slog.Logger, opts ...Option) *Cache {
	if ttl < 2*time.Second {
		ttl = 2 * time.Second
	}
	if logger == nil {
		logger = slog.Default()
	}
	c := &Cache{rdb: rdb, prefix: prefix, ttl: ttl, timeout: DefaultTimeout, counter: counter, logger: logger,
		breaker: &breaker{failures: DefaultBreakerFailures, cooldown: DefaultBreakerCooldown}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// ClientOptions sets what the cache needs of a go-redis client's options:
// context deadlines honoured on the socket (so that a call ends at its
// bound, not at the client's read timeout), no silent retries beyond the
// bound, and read, write, dial and pool timeouts of at most timeout
// (DefaultTimeout when 0).
func ClientOptions(o *redis.Options, timeout time.Duration) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	o.ContextTimeoutEnabled = true
	o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout
	if o.DialTimeout <= 0 || o.DialTimeout > timeout {
		o.DialTimeout = timeout
	}
}

// OnConnect is for redis.Options.OnConnect: it asks the new connection's
// Redis for its run_id, and puts the cache in debt (see the package comment)
// when it is the first one seen or another than the last one, or when it
// cannot tell. It never fails the connection. A nil cache does nothing.
func (c *Cache) OnConnect(ctx context.Context, cn *redis.Conn) error {
	if c == nil {
		return nil
	}
	info, err := cn.Info(ctx, "server").Result()
	id := ""
	if err == nil {
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
				id = v
			}
		}
	}
	c.runMu.Lock()
	changed := id == "" || id != c.runID
	if id != "" {
		c.runID = id
	}
	c.runMu.Unlock()
	if changed {
		c.lost.Add(1)
	}
	return nil
}

// Run pays the cache's debt as soon as Redis answers again (every timeout,
// through the breaker), rather than at the next read or invalidation, so
// that the other instances stop serving entries this one could not
// invalidate as early as possible. It returns ctx's error when ctx ends.
func (c *Cache) Run(ctx context.Context) error {
	if c == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	t := time.NewTicker(c.timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if c.InDebt() {
				c.budget().settle(ctx)
			}
		}
	}
}

// InDebt reports whether the cache has lost an invalidation (or seen a new
// Redis) that no epoch bump covers yet: until then it does not use Redis.
func (c *Cache) InDebt() bool { return c != nil && c.lost.Load() > c.paid.Load() }

// Up reports whether the circuit breaker lets calls through (false while it
// is open after failures). A nil cache is not up.
func (c *Cache) Up() bool { return c != nil && c.breaker.closed() }

// redisKey is the Redis hash of (projection, key).
func (c *Cache) redisKey(projectionName, key string) string {
	return c.prefix + projectionName + ":" + key
}

func (c *Cache) epochKey() string { return c.prefix + "epoch" }

// budget is the Redis time left to one cache operation.
type budget struct {
	c    *Cache
	left time.Duration
}

func (c *Cache) budget() *budget { return &budget{c: c, left: c.timeout} }

// call runs f with a context bounded by what is left of the budget, through
// the breaker. redis.Nil is success. The caller's own cancellation is not
// counted against Redis.
func (b *budget) call(ctx context.Context, f func(ctx context.Context) error) error {
	if b.left <= 0 {
		return fmt.Errorf("%w: time budget spent", ErrUnavailable)
	}
	if !b.c.breaker.allow() {
		return fmt.Errorf("%w: circuit breaker open", ErrUnavailable)
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, b.left)
	err := f(cctx)
	cancel()
	b.left -= time.Since(start)
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	if err != nil && ctx.Err() != nil {
		b.c.breaker.abandon() // the caller gave up: says nothing of Redis
	} else {
		b.c.breaker.record(err == nil)
	}
	return err
}

// logRedisError logs a failed Redis call: a warning, or only at debug level
// when Redis was not asked (breaker open), which would repeat on every
// request meanwhile.
func (c *Cache) logRedisError(ctx context.Context, msg string, err error) {
	level := slog.LevelWarn
	if errors.Is(err, ErrUnavailable) {
		level = slog.LevelDebug
	}
	c.logger.Log(ctx, level, msg, "err", err)
}

// settle bumps the epoch if the cache is in debt. It returns whether Redis
// may be used.
func (b *budget) settle(ctx context.Context) bool {
	c := b.c
	owed := c.lost.Load()
	if owed <= c.paid.Load() {
		return true
	}
	if err := b.call(ctx, func(ctx context.Context) error { return c.rdb.Incr(ctx, c.epochKey()).Err() }); err != nil {
		c.logRedisError(ctx, "read cache: epoch bump failed, reading the database", err)
		return false
	}
	for {
		paid := c.paid.Load()
		if paid >= owed || c.paid.CompareAndSwap(paid, owed) {
			break
		}
	}
	c.logger.InfoContext(ctx, "read cache: epoch bumped after a lost invalidation or a new Redis")
	return c.lost.Load() <= c.paid.Load()
}

// The hash of one key has fields ftx/fpos (the floor) and vtx/vpos/val/ep
// (the value, the checkpoint it was read at and the epoch it was filled
// under). Checkpoint parts are decimal strings; Lua compares them as
// numbers, exact below 2^53, far beyond any transaction id or position a
// database reaches. The epoch key and the hashes are separate keys: on a
// Redis Cluster the prefix must hold a hash tag ("{chronicle}:...").

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
      redis.call('HDEL', k, 'vtx', 'vpos', 'val', 'ep')
    end
  end
  redis.call('PEXPIRE', k, ARGV[3])
end
return 0`)

// fillScript: KEYS = [hash, epoch]; ARGV = tx, pos, value, ttl ms, epoch.
// It stores the value unless the epoch moved since the reader read it, or
// the floor or a stored value of the current epoch is newer.
var fillScript = redis.NewScript(`
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[5] then return 0 end
local tx, pos = tonumber(ARGV[1]), tonumber(ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'ftx', 'fpos', 'vtx', 'vpos', 'ep')
local ftx, fpos = tonumber(f[1] or '-1'), tonumber(f[2] or '-1')
if tx < ftx or (tx == ftx and pos < fpos) then return 0 end
if f[3] and f[5] == ARGV[5] then
  local vtx, vpos = tonumber(f[3]), tonumber(f[4])
  if tx < vtx or (tx == vtx and pos <= vpos) then return 0 end
end
redis.call('HSET', KEYS[1], 'vtx', ARGV[1], 'vpos', ARGV[2], 'val', ARGV[3], 'ep', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`)

// Invalidate raises the floor of (projectionName, key) for each key to cp,
// the checkpoint of a change to it: from then on only values read at cp or
// later are served. Its Redis time is bounded by the cache's timeout.
// Errors: Redis errors and ErrUnavailable; the cache then stays safe on its
// own (it is in debt, see the package comment), so a caller only logs them.
func (c *Cache) Invalidate(ctx context.Context, projectionName string, cp eventstore.Checkpoint, keys ...string) error {
	if c == nil || len(keys) == 0 {
		return nil
	}
	hashes := make([]string, len(keys))
	for i, k := range keys {
		hashes[i] = c.redisKey(projectionName, k)
	}
	b := c.budget()
	if !b.settle(ctx) {
		// Counted after the failure: only a bump issued from now on,
		// after the change committed, pays for it.
		c.lose(ctx)
		return fmt.Errorf("readcache: invalidate %d keys of %s: %w", len(keys), projectionName, ErrUnavailable)
	}
	err := b.call(ctx, func(ctx context.Context) error {
		return invalidateScript.Run(ctx, c.rdb, hashes,
			strconv.FormatUint(cp.TransactionID, 10), strconv.FormatInt(cp.Position, 10), c.ttl.Milliseconds()).Err()
	})
	if err != nil {
		c.lose(ctx)
		return fmt.Errorf("readcache: invalidate %d keys of %s: %w", len(keys), projectionName, err)
	}
	return nil
}

// get returns the fresh cached values of keys of the current epoch (absent:
// a miss), and the epoch, which a fill of the misses must carry. ok is false
// when Redis was not read (in debt, breaker open, an error): then nothing
// is to be filled either.
func (c *Cache) get(ctx context.Context, b *budget, projectionName string, keys []string) (out map[string][]byte, epoch string, ok bool) {
	out = make(map[string][]byte, len(keys))
	if !b.settle(ctx) {
		return out, "", false
	}
	cmds := make([]*redis.SliceCmd, len(keys))
	var epochCmd *redis.StringCmd
	err := b.call(ctx, func(ctx context.Context) error {
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			epochCmd = p.Get(ctx, c.epochKey())
			for i, k := range keys {
				cmds[i] = p.HMGet(ctx, c.redisKey(projectionName, k), "ftx", "fpos", "vtx", "vpos", "val", "ep")
			}
			return nil
		})
		return err
	})
	if err != nil {
		c.logRedisError(ctx, "read cache unavailable: reading the database", err)
		return out, "", false
	}
	if c.InDebt() {
		// The read went over a new connection to a Redis process not seen
		// before (OnConnect ran before it): what it read is suspect.
		return out, "", false
	}
	epoch = epochCmd.Val()
	if epoch == "" {
		epoch = "0"
	}
	for i, cmd := range cmds {
		f := cmd.Val()
		if len(f) != 6 || f[2] == nil || f[4] == nil || f[5] != epoch {
			continue
		}
		floor, value := checkpointOf(f[0], f[1]), checkpointOf(f[2], f[3])
		if value.Compare(floor) >= 0 {
			if s, ok := f[4].(string); ok {
				out[keys[i]] = []byte(s)
			}
		}
	}
	return out, epoch, true
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

// fill stores values read at cp under epoch (the one get saw before the
// read), unless the read began too long ago (see the package comment).
// Failures are logged, not returned.
func (c *Cache) fill(ctx context.Context, b *budget, projectionName string, cp eventstore.Checkpoint, epoch string, values map[string][]byte, readStart time.Time) {
	if time.Since(readStart) > c.ttl/2 {
		return
	}
	tx, pos, ttl := strconv.FormatUint(cp.TransactionID, 10), strconv.FormatInt(cp.Position, 10), c.ttl.Milliseconds()
	err := b.call(ctx, func(ctx context.Context) error {
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for k, v := range values {
				fillScript.Eval(ctx, p, []string{c.redisKey(projectionName, k), c.epochKey()}, tx, pos, v, ttl, epoch)
			}
			return nil
		})
		return err
	})
	if err != nil {
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
// name labels the hit/miss counts (e.g. "payment"). Its Redis time in all
// is bounded by the cache's timeout; when Redis fails or is slow, load
// answers. Errors: load's.
func LoadMany(ctx context.Context, c *Cache, name, projectionName string, keys []string,
	load func(ctx context.Context, keys []string) (map[string][]byte, eventstore.Checkpoint, error)) (map[string][]byte, error) {
	if c == nil {
		values, _, err := load(ctx, keys)
		return values, err
	}
	b := c.budget()
	values, epoch, fromRedis := c.get(ctx, b, projectionName, keys)
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
	if fromRedis {
		c.fill(ctx, b, projectionName, cp, epoch, loaded, start)
	}
	for k, v := range loaded {
		values[k] = v
	}
	return values, nil
}

// breaker is a small circuit breaker: closed, it lets every call through
// and counts consecutive failures; after failures of them it opens for
// cooldown (no call goes through), then lets one call probe: its success
// closes it, its failure opens it again.
type breaker struct {
	failures int
	cooldown time.Duration

	mu        sync.Mutex
	failed    int
	openUntil time.Time
	probing   bool
}

// allow reports whether a call may go to Redis now.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failed < b.failures {
		return true
	}
	if b.probing || time.Now().Before(b.openUntil) {
		return false
	}
	b.probing = true
	return true
}

// record takes the outcome of an allowed call.
func (b *breaker) record(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if ok {
		b.failed = 0
		return
	}
	b.failed++
	if b.failed >= b.failures {
		b.openUntil = time.Now().Add(b.cooldown)
	}
}

// abandon takes an allowed call whose outcome says nothing of Redis (its
// caller gave up first).
func (b *breaker) abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

func (b *breaker) closed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed < b.failures
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
// old entry until the key's next change or its TTL. A failed purge puts the
// cache in debt, like a lost invalidation. Errors: Redis errors.
func (c *Cache) Purge(ctx context.Context, projectionName string) error {
	if c == nil {
		return nil
	}
	if err := c.purge(ctx, projectionName); err != nil {
		c.lose(ctx)
		return err
	}
	return nil
}

func (c *Cache) purge(ctx context.Context, projectionName string) error {
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
