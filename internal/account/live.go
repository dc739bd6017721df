package account

import (
	"context"
	"strconv"

	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/page"
	"github.com/google/uuid"
)

// followBatch is how many operations one read of an operations feed takes.
const followBatch = 100

// Reads are shared (live.Load) between the subscribers that follow the same
// account, so a change costs one query however many watch it.

// AccountFeed is the live feed of organization's account id: the projected
// account each time its version passes afterVersion (at once if it already
// has). Errors: ErrAccountNotFound when the account is not in the read
// model of organization (yet); read errors.
func (m *ReadModel) AccountFeed(ctx context.Context, organization string, id uuid.UUID, afterVersion int64) (live.Feed[View], error) {
	return live.EntityFeed(ctx, m.hub, ProjectionName, "account", organization, id, afterVersion,
		func(ctx context.Context) (View, error) { return m.Get(ctx, organization, id) },
		func(v View) int64 { return v.Version }, ErrAccountNotFound)
}

// ParseOperationsCursor returns the stream version that an operations
// cursor points at, 0 for "" (before the first operation).
// Errors: page.ErrInvalidPage for a malformed cursor.
func ParseOperationsCursor(cursor string) (int64, error) {
	return page.DecodeInt64(operationCursor, cursor)
}

// OperationAt is an operation with its operations-connection cursor.
type OperationAt struct {
	Operation
	Cursor string
}

// OperationsFeed is the live feed of the operations of organization's
// account id after the operations cursor after ("" for all), in version
// order, each exactly once: first those already projected, then new ones as
// they are projected. A client that resumes from the last cursor it got
// misses nothing and gets nothing twice. Errors: page.ErrInvalidPage for a
// malformed cursor; ErrAccountNotFound; read errors.
func (m *ReadModel) OperationsFeed(ctx context.Context, organization string, id uuid.UUID, after string) (live.Feed[OperationAt], error) {
	last, err := ParseOperationsCursor(after)
	if err != nil {
		return live.Feed[OperationAt]{}, err
	}
	exists := func(ctx context.Context) error {
		_, err := m.Get(ctx, organization, id)
		return err
	}
	return live.Watch(ctx, m.hub, ProjectionName, []string{id.String()}, exists,
		func(ctx context.Context, sub *live.Subscription, emit func(OperationAt) bool) error {
			return live.Follow(ctx, sub, func(ctx context.Context) error {
				for {
					from := last
					ops, err := live.Load(ctx, sub, "account-operations:"+strconv.Quote(organization)+":"+id.String()+":"+strconv.FormatInt(from, 10),
						func(ctx context.Context) ([]Operation, error) {
							return m.operationsAfter(ctx, organization, id, from, followBatch)
						})
					if err != nil {
						return err
					}
					for _, op := range ops {
						if !emit(OperationAt{Operation: op, Cursor: page.EncodeInt64(operationCursor, op.Version)}) {
							return live.ErrStopFollowing
						}
						last = op.Version
					}
					if len(ops) < followBatch {
						return nil
					}
				}
			})
		})
}
