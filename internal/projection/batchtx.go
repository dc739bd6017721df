package projection

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// batchTx is the pgx.Tx a runner applies a batch in, on a connection of its
// own. It spends no round trip of its own where pgx's transaction spends
// three (BEGIN, the checkpoint's advance, COMMIT):
//
//   - BEGIN is sent in one pipeline with the projection's first statement
//     (a query, an exec or a batch);
//   - the checkpoint's advance is sent in one pipeline with COMMIT
//     (commitAdvancing), through chronicle_advance_checkpoint, which raises
//     when the checkpoint has moved: the error skips the COMMIT after it, so
//     a fenced batch never commits;
//   - a batch that the projection sent nothing for (no event of it: most
//     batches of most projections, since every projection reads every
//     event) commits nothing: the runner stores its advance later (with
//     the next batch that sends something, or after PollInterval, see
//     runner.storeDue), in a transaction that does not wait for its WAL
//     flush (synchronous_commit off). Losing that advance to a crash is
//     harmless: the events after the stored checkpoint are read again and,
//     again, change nothing.
//
// Its statements are spelled as pgx's own ("begin", "commit"), so that
// pg_stat_activity shows a batch's commit as it shows any other. Nested
// transactions (Begin) and large objects are not offered: no projection
// needs them in a batch.
type batchTx struct {
	conn *pgx.Conn
	// begun is set once BEGIN has been sent; done once COMMIT or ROLLBACK
	// has ended the transaction.
	begun, done bool
}

var _ pgx.Tx = (*batchTx)(nil)

// errNestedBatchTx is returned by batchTx.Begin.
var errNestedBatchTx = errors.New("projection batch: nested transactions are not supported")

// fencedCode is the SQLSTATE chronicle_advance_checkpoint raises when the
// checkpoint is not where the batch started (migrations/00013).
const fencedCode = "CK001"

// withBegin returns b's queries after a BEGIN, when the transaction has not
// begun, and marks it begun.
func (t *batchTx) withBegin(queries ...*pgx.QueuedQuery) *pgx.Batch {
	if !t.begun {
		t.begun = true
		queries = append([]*pgx.QueuedQuery{{SQL: "begin"}}, queries...)
	}
	return &pgx.Batch{QueuedQueries: queries}
}

// send sends b, whose first query is BEGIN when first is set, and reads
// BEGIN's result.
func (t *batchTx) send(ctx context.Context, b *pgx.Batch, first bool) pgx.BatchResults {
	br := t.conn.SendBatch(ctx, b)
	if !first {
		return br
	}
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return failedResults{err}
	}
	return br
}

// SendBatch implements pgx.Tx.
func (t *batchTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	first := !t.begun
	return t.send(ctx, t.withBegin(b.QueuedQueries...), first)
}

// Exec implements pgx.Tx.
func (t *batchTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.begun {
		return t.conn.Exec(ctx, sql, args...)
	}
	br := t.send(ctx, t.withBegin(&pgx.QueuedQuery{SQL: sql, Arguments: args}), true)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query implements pgx.Tx.
func (t *batchTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.begun {
		return t.conn.Query(ctx, sql, args...)
	}
	br := t.send(ctx, t.withBegin(&pgx.QueuedQuery{SQL: sql, Arguments: args}), true)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return rows, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow implements pgx.Tx.
func (t *batchTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.begun {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	return &batchRow{rows: rows, err: err}
}

// CopyFrom implements pgx.Tx (COPY cannot be pipelined: BEGIN goes first,
// on its own).
func (t *batchTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if !t.begun {
		t.begun = true
		if _, err := t.conn.Exec(ctx, "begin"); err != nil {
			return 0, err
		}
	}
	return t.conn.CopyFrom(ctx, table, columns, src)
}

// Prepare implements pgx.Tx.
func (t *batchTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

// Begin implements pgx.Tx: not supported (errNestedBatchTx).
func (t *batchTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNestedBatchTx }

// LargeObjects implements pgx.Tx: not supported (the zero value, with no
// transaction behind it: no projection may use it).
func (t *batchTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

// Conn implements pgx.Tx.
func (t *batchTx) Conn() *pgx.Conn { return t.conn }

// Commit implements pgx.Tx for a projection that commits by itself (the
// runner commits with commitAdvancing).
func (t *batchTx) Commit(ctx context.Context) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	t.done = true
	if !t.begun {
		return nil
	}
	_, err := t.conn.Exec(ctx, "commit")
	return err
}

// Rollback implements pgx.Tx: it ends a transaction that has begun and not
// ended; otherwise it does nothing.
func (t *batchTx) Rollback(ctx context.Context) error {
	if t.done || !t.begun {
		t.done = true
		return nil
	}
	t.done = true
	_, err := t.conn.Exec(ctx, "rollback")
	return err
}

// commitAdvancing advances name's checkpoint from `from` to `to` and
// commits, in one round trip. Errors: errFenced when the checkpoint was not
// at `from` (nothing committed); the database's.
func (t *batchTx) commitAdvancing(ctx context.Context, name string, from, to eventstore.Checkpoint) error {
	queries := []*pgx.QueuedQuery{
		{SQL: `SELECT chronicle_advance_checkpoint($1, $2::text::xid8, $3, $4::text::xid8, $5)`, Arguments: []any{
			name, strconv.FormatUint(from.TransactionID, 10), from.Position, strconv.FormatUint(to.TransactionID, 10), to.Position}},
		{SQL: "commit"},
	}
	if !t.begun {
		// Nothing applied: the advance alone, not waiting for its flush.
		queries = append([]*pgx.QueuedQuery{{SQL: "SET LOCAL synchronous_commit TO off"}}, queries...)
	}
	first := !t.begun
	br := t.send(ctx, t.withBegin(queries...), first)
	var err error
	for range queries {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == fencedCode {
		return errFenced
	}
	if err != nil {
		return fmt.Errorf("advance checkpoint of %s and commit: %w", name, err)
	}
	t.done = true
	return nil
}

// batchRows are the rows of a query sent in a pipeline after BEGIN: closing
// them closes the pipeline's results.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if r.br != nil {
		_ = r.br.Close()
		r.br = nil
	}
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

// batchRow is QueryRow's row over batchRows.
type batchRow struct {
	rows pgx.Rows
	err  error
}

func (r *batchRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// failedResults are the results of a pipeline whose BEGIN failed.
type failedResults struct{ err error }

func (f failedResults) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedResults) Query() (pgx.Rows, error)         { return errRows{f.err}, f.err }
func (f failedResults) QueryRow() pgx.Row                { return &batchRow{err: f.err} }
func (f failedResults) Close() error                     { return f.err }
func (f failedResults) Tx() pgx.Tx                       { return nil }

// errRows are the closed rows of a query that could not be sent.
type errRows struct{ err error }

func (r errRows) Close()                                       {}
func (r errRows) Err() error                                   { return r.err }
func (r errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (r errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (r errRows) Next() bool                                   { return false }
func (r errRows) Scan(...any) error                            { return r.err }
func (r errRows) Values() ([]any, error)                       { return nil, r.err }
func (r errRows) RawValues() [][]byte                          { return nil }
func (r errRows) Conn() *pgx.Conn                              { return nil }
func (r errRows) TypeMap() *pgtype.Map                         { return nil }
