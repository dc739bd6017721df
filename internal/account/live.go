package account

import (
	"context"
	"strconv"

	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/page"
	"github.com/google/uuid"
)

// followBatch is how many operations one read of FollowOperations takes.
const followBatch = 100

// Reads are shared (live.Load) between the subscribers that follow the same
// account, so a change costs one query however many watch it.

// FollowAccount calls emit with the projected account each time its version
// passes afterVersion (at once if it already has), until ctx ends, emit
// returns false, or a read fails. sub must be a Subscription to
// (ProjectionName, id) taken before the call. An account that is not
// projected yet (or not of organization) is waited for.
func (m *ReadModel) FollowAccount(ctx context.Context, sub *live.Subscription, organization string, id uuid.UUID, afterVersion int64, emit func(View) bool) error {
	// The organization is part of the shared read's key: a subscriber never
	// joins a read made for another tenant.
	key := "account:" + strconv.Quote(organization) + ":" + id.String()
	return live.FollowVersions(ctx, sub, key, afterVersion,
		func(ctx context.Context) (View, error) { return m.Get(ctx, organization, id) },
		func(v View) int64 { return v.Version }, ErrAccountNotFound, emit)
}

// ParseOperationsCursor returns the stream version that an operations
// cursor points at, 0 for "" (before the first operation).
// Errors: page.ErrInvalidPage for a malformed cursor.
func ParseOperationsCursor(cursor string) (int64, error) {
	return page.DecodeInt64(operationCursor, cursor)
}

// FollowOperations calls emit with each operation of the account with a
// version after afterVersion (see ParseOperationsCursor), in version order,
// each exactly once: first those already projected, then new ones as they
// are projected. The cursor passed to emit is the operations connection's,
// so a client that resumes from it misses nothing and gets nothing twice.
// It stops when ctx ends, emit returns false, or a read fails. sub must be a
// Subscription to (ProjectionName, id) taken before the call. The caller
// checks that the account is its organization's first (an account never
// changes organization).
func (m *ReadModel) FollowOperations(ctx context.Context, sub *live.Subscription, id uuid.UUID, afterVersion int64, emit func(op Operation, cursor string) bool) error {
	last := afterVersion
	return live.Follow(ctx, sub, func(ctx context.Context) error {
		for {
			after := last
			ops, err := live.Load(ctx, sub, "account-operations:"+id.String()+":"+strconv.FormatInt(after, 10),
				func(ctx context.Context) ([]Operation, error) { return m.operationsAfter(ctx, id, after, followBatch) })
			if err != nil {
				return err
			}
			for _, op := range ops {
				if !emit(op, page.EncodeInt64(operationCursor, op.Version)) {
					return live.ErrStopFollowing
				}
				last = op.Version
			}
			if len(ops) < followBatch {
				return nil
			}
		}
	})
}
