package graph

import (
	"context"

	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/live"
)

// The accounts context's resolver part: conversions of its read models and
// results into GraphQL types, and its subscriptions.

func accountOf(v account.View) *model.Account {
	return &model.Account{
		ID:        v.ID.String(),
		Owner:     v.Owner,
		Currency:  v.Currency,
		Balance:   moneyOf(v.Balance, v.Currency),
		Status:    model.AccountStatus(v.Status),
		Version:   int(v.Version),
		OpenedAt:  v.OpenedAt,
		UpdatedAt: v.UpdatedAt,
	}
}

func accountPayloadOf(r account.Result) *model.AccountPayload {
	p := &model.AccountPayload{
		AccountID: r.ID.String(),
		Position:  r.Position,
		Version:   int(r.Version),
		UpToDate:  r.UpToDate,
		Duplicate: r.Duplicate,
	}
	if r.View != nil {
		p.Account = accountOf(*r.View)
	}
	return p
}

func operationOf(o account.Operation, currency string) *model.Operation {
	return &model.Operation{
		Kind:         model.OperationKind(o.Kind),
		Amount:       moneyOf(o.Amount, currency),
		BalanceAfter: moneyOf(o.BalanceAfter, currency),
		Description:  o.Description,
		Reference:    o.Reference,
		Counterparty: counterpartyOf(o.Counterparty),
		Version:      int(o.Version),
		Position:     o.Position,
		RecordedAt:   o.RecordedAt,
	}
}

func counterpartyIn(in *model.CounterpartyInput) *account.Counterparty {
	if in == nil {
		return nil
	}
	return &account.Counterparty{Name: in.Name, Account: deref(in.Account)}
}

func counterpartyOf(c *account.Counterparty) *model.Counterparty {
	if c == nil {
		return nil
	}
	return &model.Counterparty{Name: c.Name, Account: optional(c.Account)}
}

// followAccount serves the accountUpdated subscription.
func (r *Resolver) followAccount(ctx context.Context, rawID string, afterVersion *int) (<-chan *model.Account, error) {
	id, err := account.ParseID(rawID)
	if err != nil {
		return nil, err
	}
	var after int64
	if afterVersion != nil {
		if *afterVersion < 0 {
			return nil, apperr.New(apperr.BadUserInput, "afterVersion must not be negative")
		}
		after = int64(*afterVersion)
	}
	return subscribe(ctx, r, "accountUpdated", func(ctx context.Context, org string) (live.Feed[account.View], error) {
		return r.account.Reads.AccountFeed(ctx, org, id, after)
	}, accountOf)
}

// followOperations serves the accountOperations subscription.
func (r *Resolver) followOperations(ctx context.Context, rawID string, after *string) (<-chan *model.OperationEdge, error) {
	id, err := account.ParseID(rawID)
	if err != nil {
		return nil, err
	}
	org, err := organization(ctx)
	if err != nil {
		return nil, err
	}
	acc, err := r.account.Reads.Get(ctx, org, id)
	if err != nil {
		return nil, err
	}
	return subscribe(ctx, r, "accountOperations", func(ctx context.Context, org string) (live.Feed[account.OperationAt], error) {
		return r.account.Reads.OperationsFeed(ctx, org, id, deref(after))
	}, func(op account.OperationAt) *model.OperationEdge {
		return &model.OperationEdge{Cursor: op.Cursor, Node: operationOf(op.Operation, acc.Currency)}
	})
}
