package account

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ProjectionName names the projection that keeps the accounts and
// account_operations tables.
const ProjectionName = "accounts"

// Projection keeps the accounts read model: one row per account in accounts,
// and one row per credit or debit, with the balance after it, in
// account_operations. It implements projection.Projection, Rebuildable and
// BulkApplier.
//
// It is written as one fold (fold.apply), used by the live Apply and by the
// rebuild's Bulk alike: Apply loads the rows a batch touches, folds the batch
// into them and writes them back; a rebuild folds the whole log in memory
// and COPYs the result. Both build the same rows because they run the same
// code.
type Projection struct{}

// Name implements projection.Projection.
func (Projection) Name() string { return ProjectionName }

// StreamTypes implements projection.Selective: accounts, and the erasures
// that scrub them.
func (Projection) StreamTypes() []string { return []string{Type.StreamType, datasubject.StreamType} }

// ReadsPersonalData implements projection.PersonalReader: the accounts
// table shows the owner's name, opened from its sealed form.
func (Projection) ReadsPersonalData() {}

// personalColumns are the accounts columns an erasure scrubs.
var personalColumns = []string{"owner"}

// Tables implements projection.Rebuildable: the read-model tables that Apply
// writes, unqualified.
func (Projection) Tables() []string { return []string{"accounts", "account_operations"} }

// operationRow is one new row of account_operations.
type operationRow struct {
	Operation
	eventID uuid.UUID
}

// fold is the projection's state while it applies events: the accounts
// rows touched so far, and the operations they recorded.
type fold struct {
	rows map[uuid.UUID]*View
	ops  []operationRow
}

func newFold() *fold { return &fold{rows: map[uuid.UUID]*View{}} }

// apply folds one stored account event into the rows. A credit, debit or
// close of an account that is not in rows (never opened) is ignored.
func (f *fold) apply(re eventstore.RecordedEvent) error {
	e, err := Type.Decode(re.Type, re.SchemaVersion, re.Data)
	if err != nil {
		return fmt.Errorf("event %d: %w", re.Position, err)
	}
	at := re.RecordedAt.UTC()
	if o, ok := e.(AccountOpened); ok {
		if _, dup := f.rows[re.StreamID]; dup {
			return fmt.Errorf("event %d: account %s opened twice", re.Position, re.StreamID)
		}
		f.rows[re.StreamID] = &View{
			ID: re.StreamID, Organization: o.Organization, Owner: o.Owner, Currency: o.Currency,
			Balance: o.InitialBalance, Status: StatusOpen, Version: re.Version, OpenedAt: at, UpdatedAt: at,
		}
		return nil
	}
	v := f.rows[re.StreamID]
	if v == nil {
		return nil
	}
	v.Version, v.UpdatedAt = re.Version, at
	switch e := e.(type) {
	case AccountCredited:
		f.operation(v, re, OperationCredit, e.Amount, e.Amount, e.Description, e.Reference, e.Counterparty)
	case AccountDebited:
		f.operation(v, re, OperationDebit, e.Amount, -e.Amount, e.Description, e.Reference, e.Counterparty)
	case AccountClosed:
		v.Status = StatusClosed
	}
	return nil
}

// operation moves the account's balance by delta and records the operation
// with the balance it left.
func (f *fold) operation(v *View, re eventstore.RecordedEvent, kind string, amount, delta int64, description, reference string, cp *Counterparty) {
	v.Balance += delta
	f.ops = append(f.ops, operationRow{eventID: re.EventID, Operation: Operation{
		AccountID: re.StreamID, Kind: kind, Amount: amount, BalanceAfter: v.Balance, Description: description,
		Reference: reference, Counterparty: cp, Version: re.Version, Position: re.Position, RecordedAt: v.UpdatedAt,
	}})
}

// Operation kinds, as stored in account_operations.kind.
const (
	OperationCredit = "CREDIT"
	OperationDebit  = "DEBIT"
)

var (
	accountColumns   = []string{"id", "organization", "owner", "currency", "balance", "status", "version", "opened_at", "updated_at"}
	operationColumns = []string{"account_id", "version", "event_id", "position", "kind", "amount", "balance_after", "description", "recorded_at",
		"reference", "counterparty_name", "counterparty_account"}
)

func accountRow(v *View) []any {
	return []any{v.ID, v.Organization, v.Owner, v.Currency, v.Balance, string(v.Status), v.Version, v.OpenedAt, v.UpdatedAt}
}

func (o operationRow) values() []any {
	var name, account *string
	if cp := o.Counterparty; cp != nil {
		name = &cp.Name
		if cp.Account != "" {
			account = &cp.Account
		}
	}
	return []any{o.AccountID, o.Version, o.eventID, o.Position, o.Kind, o.Amount, o.BalanceAfter, o.Description, o.RecordedAt,
		o.Reference, name, account}
}

// Apply implements projection.Projection (see ApplyViews).
func (p Projection) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	return projection.ApplyKeys(p.ApplyViews(ctx, tx, events))
}

// ApplyViews implements projection.Viewer: it loads the rows of the
// accounts the batch touches (locked, so a rebuild's swap cannot slip in
// between), folds the batch into them, and writes the rows and the new
// operations in one round trip. It returns each changed account's View by
// id, nil for an account an erasure scrubbed.
func (Projection) ApplyViews(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) (map[string]any, error) {
	var (
		mine    = make([]eventstore.RecordedEvent, 0, len(events))
		lookups []uuid.UUID
		opened  = map[uuid.UUID]bool{}
	)
	for _, re := range events {
		if re.StreamType != Type.StreamType {
			continue
		}
		mine = append(mine, re)
		if re.Type == EventAccountOpened {
			opened[re.StreamID] = true
		} else if !opened[re.StreamID] {
			lookups = append(lookups, re.StreamID)
		}
	}
	erased := projection.Erasures(events, Type.StreamType)
	if len(mine) == 0 && len(erased) == 0 {
		return nil, nil
	}
	f := newFold()
	if err := f.load(ctx, tx, lookups); err != nil {
		return nil, err
	}
	for _, re := range mine {
		if err := f.apply(re); err != nil {
			return nil, err
		}
	}
	var batch pgx.Batch
	changed := make(map[string]any, len(f.rows))
	for _, id := range slices.SortedFunc(maps.Keys(f.rows), compareIDs) {
		batch.Queue(`INSERT INTO accounts (`+viewColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, balance = EXCLUDED.balance, status = EXCLUDED.status,
				version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`, accountRow(f.rows[id])...)
		changed[id.String()] = *f.rows[id]
	}
	for _, o := range f.ops {
		batch.Queue(`INSERT INTO account_operations (account_id, version, event_id, position, kind, amount, balance_after, description, recorded_at,
				reference, counterparty_name, counterparty_account)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, o.values()...)
	}
	if err := projection.SendBatch(ctx, tx, &batch); err != nil {
		return nil, fmt.Errorf("project accounts: %w", err)
	}
	scrubbed, err := projection.Scrub(ctx, tx, "accounts", personalColumns, erased)
	if err != nil {
		return nil, err
	}
	for _, s := range scrubbed {
		changed[s.ID.String()] = nil
	}
	return changed, nil
}

// compareIDs orders ids bytewise, as PostgreSQL orders uuids: rows are
// written in that order, so two writers never lock them crosswise.
func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// load reads the projected rows of ids into the fold.
func (f *fold) load(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT `+viewColumns+` FROM accounts WHERE id = ANY($1) FOR UPDATE`, ids)
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	views, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (View, error) { return scanView(r) })
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	for i := range views {
		f.rows[views[i].ID] = &views[i]
	}
	return nil
}
