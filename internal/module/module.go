// Package module is how a bounded context is registered: a Module value names
// the context's projections and builds its application value (command
// handler, read models) from the shared Deps, and a Registry collects every
// module a server uses, so that the projection engine, the rebuild command
// and anything else that lists contexts iterate over one list. A context is
// wired by one line, module.Use(registry, <context>.Module): it cannot be
// half registered (its projections running but its resolvers missing, or the
// reverse).
package module

import (
	"fmt"
	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/history"
	"log/slog"

	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/process"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Deps are the shared parts a context is built from.
type Deps struct {
	// Pool serves the read models' queries.
	Pool *pgxpool.Pool
	// Store is the event store (Commands.Store appends through it).
	Store *eventstore.Store
	// Streams reads streams with their sealed personal data opened: what
	// history and time travel read (nil: Store, sealed values as stored).
	Streams history.StreamReader
	// Keys seal, open and erase personal data (nil in tools that do
	// not).
	Keys *datasubject.Keys
	// Commands are the command handlers' shared parts.
	Commands command.Deps
	// Cache is the Redis read cache, nil without Redis (a nil *Cache reads
	// through to PostgreSQL).
	Cache *readcache.Cache
	// Hub rings the live subscriptions after a projection committed.
	Hub *live.Hub
	// Logger is the server's logger.
	Logger *slog.Logger
	// Process configures the contexts' process managers (pool, clock).
	Process process.Config
	// Settings are the server's settings, for contexts that have some
	// (e.g. ORDER_PAYMENT_TIMEOUT); the zero Config in tools and tests
	// that do not read them.
	Settings config.Config
}

// Module describes one bounded context; C is its application value (what
// its resolvers use).
type Module[C any] struct {
	// Name names the context ("account").
	Name string
	// Projections are the context's projections, run by the engine and
	// rebuilt by cmd/rebuild.
	Projections []projection.Projection
	// New builds the context's application value. It does no I/O.
	New func(Deps) C
	// Processes, when set, returns the context's process managers, built
	// on its application value (through which they send commands) with
	// process.New and the Deps' Process config; the registry registers
	// each with the engine like a projection (not for rebuilds: a process
	// manager's effects are commands, not a read model).
	Processes func(app C, d Deps) []*process.Manager
}

// StreamReader returns Streams, or Store when Streams is not set.
func (d Deps) StreamReader() history.StreamReader {
	if d.Streams != nil {
		return d.Streams
	}
	return d.Store
}

// Registrar takes projections to run (*projection.Engine).
type Registrar interface {
	Register(p projection.Projection) error
}

// Registry collects the modules of one server.
type Registry struct {
	deps        Deps
	engine      Registrar
	names       []string
	projections []projection.Projection
	processes   []*process.Manager
	err         error
}

// NewRegistry returns a registry that builds contexts from deps and
// registers their projections with engine (nil: nowhere, e.g. for a command
// that only lists them).
func NewRegistry(deps Deps, engine Registrar) *Registry {
	return &Registry{deps: deps, engine: engine}
}

// Use registers m and returns its application value. A second module of
// the same name, or a projection the engine refuses, is recorded for Err.
func Use[C any](r *Registry, m Module[C]) C {
	for _, n := range r.names {
		if n == m.Name && r.err == nil {
			r.err = fmt.Errorf("bounded context %q registered twice", m.Name)
		}
	}
	r.names = append(r.names, m.Name)
	for _, p := range m.Projections {
		r.projections = append(r.projections, p)
		if r.engine != nil && r.err == nil {
			if err := r.engine.Register(p); err != nil {
				r.err = fmt.Errorf("bounded context %q: %w", m.Name, err)
			}
		}
	}
	app := m.New(r.deps)
	if m.Processes != nil {
		for _, p := range m.Processes(app, r.deps) {
			r.processes = append(r.processes, p)
			if r.engine != nil && r.err == nil {
				if err := r.engine.Register(p); err != nil {
					r.err = fmt.Errorf("bounded context %q: %w", m.Name, err)
				}
			}
		}
	}
	return app
}

// Processes returns every registered context's process managers.
func (r *Registry) Processes() []*process.Manager {
	return append([]*process.Manager(nil), r.processes...)
}

// Settings returns the Deps' Settings, for module constructors that take
// them as arguments.
func (r *Registry) Settings() config.Config { return r.deps.Settings }

// Err returns the first registration error.
func (r *Registry) Err() error { return r.err }

// Names returns the registered contexts' names, in registration order.
func (r *Registry) Names() []string { return append([]string(nil), r.names...) }

// Projections returns every registered context's projections.
func (r *Registry) Projections() []projection.Projection {
	return append([]projection.Projection(nil), r.projections...)
}

// Projection returns the registered projection called name.
func (r *Registry) Projection(name string) (projection.Projection, bool) {
	for _, p := range r.projections {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}
