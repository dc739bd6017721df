package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// The operations the load generator sends.
var (
	// creditOp credits 0.01 and asks for the account as projected after the
	// credit: the payload waits for the projection (read-your-writes).
	creditOp = newOperation(`mutation($id: ID!) { creditAccount(input: {id: $id, amount: "0.01"}) { position upToDate account { balance { amount } version } } }`, "id")
	// accountOp reads one account by id.
	accountOp = newOperation(`query($id: ID!) { account(id: $id) { id owner status balance { amount currency } version updatedAt } }`, "id")
	// constantOp is the constant-valued query: the same server, no resolver
	// work beyond gqlgen's own.
	constantOp = newOperation(`{ __typename }`, "")
)

var notUpToDate = []byte(`"upToDate":false`)

// credit sends one credit to a random account of ids; with rywOnly a
// payload that is not up to date (the server's read-your-writes wait timed
// out) counts as an error.
func credit(ctx context.Context, cl *client, ids []string, rywOnly bool) error {
	b, err := cl.post(ctx, creditOp.body(ids[rand.IntN(len(ids))]))
	if err == nil && rywOnly && bytes.Contains(b, notUpToDate) {
		err = errors.New("read-your-writes wait timed out (upToDate false)")
	}
	return err
}

// openAccounts opens n accounts, 16 at a time, and returns their ids.
func openAccounts(ctx context.Context, srv *serverProcess, n int) ([]string, error) {
	ids := make([]string, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range ids {
		g.Go(func() error {
			var out struct {
				OpenAccount struct {
					AccountID string `json:"accountId"`
				} `json:"openAccount"`
			}
			err := srv.graphql(gctx, `mutation { openAccount(input: {owner: "bench", currency: "EUR"}) { accountId } }`, nil, &out)
			ids[i] = out.OpenAccount.AccountID
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("open accounts: %w", err)
	}
	return ids, nil
}

// lastCreditRow reads the latest credit event the server stored, for the
// baseline to append the same row.
func lastCreditRow(ctx context.Context, srv *serverProcess) (eventRow, error) {
	conn, err := pgx.Connect(ctx, srv.dbURL)
	if err != nil {
		return eventRow{}, err
	}
	defer conn.Close(ctx)
	var r eventRow
	err = conn.QueryRow(ctx, `
		SELECT stream_type, type, schema_version, data::text, metadata::text
		FROM events WHERE version > 1 ORDER BY position DESC LIMIT 1`).
		Scan(&r.StreamType, &r.Type, &r.SchemaVersion, &r.Data, &r.Metadata)
	if err != nil {
		return eventRow{}, fmt.Errorf("read a credit event: %w", err)
	}
	return r, nil
}

// commandPoint is item 1 at one concurrency: credits over HTTP beside the
// baseline's transactions, and, when measured, credits on a server that does
// not wait for the projection.
type commandPoint struct {
	Concurrency int
	Credits     latencyStats
	NoWait      *latencyStats
	Baseline    latencyStats
	// Append is the store alone appending the baseline's row (storeAppends).
	Append *latencyStats
}

// queryResult is item 2: account(id) beside a constant query.
type queryResult struct {
	Concurrency int
	Account     latencyStats
	Constant    latencyStats
}
