package server_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/graph"
	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

const (
	eraseMutation = `mutation Erase($input: EraseDataSubjectInput!) {
  eraseDataSubject(input: $input) { erased entities position upToDate } }`
	erasedAccountQuery = `query($id: ID!) { account(id: $id) { owner } past: account(id: $id, atVersion: 1) { owner }
  history: accountHistory(id: $id) { edges { node { type payload } } } }`
	erasedPaymentQuery = `query($id: ID!) { payment(id: $id) { customerName customerEmail }
  past: payment(id: $id, atVersion: 1) { customerName customerEmail }
  lastChange: payment(id: $id) { history { edges { node { payload } } } } }`
	erasedOrderQuery = `query($id: ID!) { order(id: $id) { customerName customerEmail status paymentId }
  past: order(id: $id, atVersion: 1) { customerName customerEmail } }`
)

type erasure struct {
	EraseDataSubject struct {
		Erased   bool   `json:"erased"`
		Entities int    `json:"entities"`
		Position *int64 `json:"position"`
		UpToDate bool   `json:"upToDate"`
	} `json:"eraseDataSubject"`
}

// TestEraseDataSubject is the acceptance test of the right to be
// forgotten: a subject's account, payment and order (and the payment the
// order's process initiated) are created and read (the read cache holds
// the payment), the subject is erased by an admin, every projection is
// rebuilt, and then neither PostgreSQL (every column of every table) nor
// Redis holds the name or the e-mail address, as plain text or in any JSON
// or hex encoding, while the API shows "[erased]" everywhere it showed
// them: read models, time travel, history.
func TestEraseDataSubject(t *testing.T) {
	t.Parallel()
	cfg := servertest.Config()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.RedisURL = redistest.SharedURL()
	cfg.SnapshotEvery = 1 // snapshots of every state, to search them too
	srv := servertest.StartWith(t, cfg)
	waitLog(t, srv, fulfilmentActive, 15*time.Second)
	c := srv.Client()
	const (
		name  = "Ada Quellwasser-Lovelace"
		email = "ada.quellwasser@example.com"
	)

	// The subject's data, through every context that holds personal data.
	acct := open(t, c, servertest.Vars{"owner": name, "ownerEmail": email, "currency": "EUR"}).AccountID
	credit(t, c, servertest.Vars{"id": acct, "amount": "5.00"})
	var initiated struct {
		InitiatePayment struct {
			PaymentID string      `json:"paymentId"`
			Payment   paymentView `json:"payment"`
		} `json:"initiatePayment"`
	}
	c.MustSucceed(t, initiateMutation, in("customerName", name, "customerEmail", strings.ToUpper(email), "amount", "12.00", "currency", "EUR"), &initiated)
	pay := initiated.InitiatePayment.PaymentID
	if p := initiated.InitiatePayment.Payment; p.CustomerName != name {
		t.Fatalf("payment shows customer %q, want %q (opened from its sealed form)", p.CustomerName, name)
	}
	product := addProduct(t, c, book("ERASE-1", "Forgotten", 120, "9.00")).ProductID
	restock(t, c, product, 5)
	var placed struct {
		PlaceOrder struct {
			OrderID string `json:"orderId"`
		} `json:"placeOrder"`
	}
	c.MustSucceed(t, placeOrderMutation, in("lines", []any{map[string]any{"productId": product, "quantity": 1}},
		"customerName", name, "customerEmail", email), &placed)
	ord := placed.PlaceOrder.OrderID
	var orderPayment string
	eventually(t, 15*time.Second, "the order's payment", func() bool {
		var x struct {
			Order struct {
				PaymentID *string `json:"paymentId"`
			} `json:"order"`
		}
		c.MustSucceed(t, erasedOrderQuery, servertest.Vars{"id": ord}, &x)
		if x.Order.PaymentID != nil {
			orderPayment = *x.Order.PaymentID
		}
		return orderPayment != ""
	})
	// The process manager handed the opened name on to the payment.
	for _, id := range []string{pay, orderPayment} {
		var x struct {
			Payment paymentView `json:"payment"`
		}
		c.MustSucceed(t, paymentQuery, servertest.Vars{"id": id}, &x) // fills the read cache
		if x.Payment.CustomerName != name || !strings.EqualFold(x.Payment.CustomerEmail, email) {
			t.Fatalf("payment %s shows %q <%s> before the erasure", id, x.Payment.CustomerName, x.Payment.CustomerEmail)
		}
	}
	// The events and snapshots never held the data in the clear.
	eventually(t, 10*time.Second, "snapshots of the account and the payments", func() bool {
		var n int
		err := srv.Server.Pool().QueryRow(ctxTimeout(t, time.Second), `SELECT count(DISTINCT stream_id) FROM snapshots
			WHERE stream_id = ANY($1::uuid[])`, []string{acct, pay, orderPayment}).Scan(&n)
		return err == nil && n == 3
	})
	if hits := findPersonalData(t, srv.Server.Pool(), []string{"events", "snapshots"}, name, email); len(hits) > 0 {
		t.Fatalf("stored events hold the subject's data in the clear: %v", hits)
	}

	// Only an admin may erase.
	srv.Client().MustFail(t, "FORBIDDEN", eraseMutation, in("email", email))
	admin := srv.ClientWithToken(srv.Token(auth.Identity{Subject: "dpo", Organization: servertest.DefaultIdentity.Organization,
		Roles: []string{auth.RoleAdmin}}, time.Hour))
	admin.MustFail(t, "BAD_USER_INPUT", eraseMutation, in("email", email, "owner", name))
	admin.MustFail(t, "BAD_USER_INPUT", eraseMutation, in("email", "not an address"))
	// Another organization's admin erases nothing of it.
	var other erasure
	srv.ClientWithToken(srv.Token(auth.Identity{Subject: "dpo", Organization: "globex", Roles: []string{auth.RoleAdmin}}, time.Hour)).
		MustSucceed(t, eraseMutation, in("email", email), &other)
	if other.EraseDataSubject.Erased {
		t.Fatalf("another organization's erasure = %+v, want nothing erased", other.EraseDataSubject)
	}

	var erased erasure
	admin.MustSucceed(t, eraseMutation, in("email", "  "+strings.ToUpper(email)+" "), &erased)
	if e := erased.EraseDataSubject; !e.Erased || e.Entities != 4 || e.Position == nil || !e.UpToDate {
		t.Fatalf("eraseDataSubject = %+v, want 4 entities (account, payment, order, the order's payment) erased, up to date", e)
	}
	// A subscription opened afterwards starts from the scrubbed row.
	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	subs := newSubs(t, ws)
	subs.subscribe("p", `subscription($id: ID!) { paymentUpdated(id: $id) { customerName customerEmail } }`, servertest.Vars{"id": pay})
	var live struct {
		PaymentUpdated struct{ CustomerName, CustomerEmail string } `json:"paymentUpdated"`
	}
	if subs.data("p", &live); live.PaymentUpdated.CustomerName != datasubject.Erased || live.PaymentUpdated.CustomerEmail != datasubject.Erased {
		t.Errorf("paymentUpdated after the erasure sent %+v", live.PaymentUpdated)
	}
	var again erasure
	admin.MustSucceed(t, eraseMutation, in("email", email), &again)
	if again.EraseDataSubject.Erased {
		t.Fatalf("a second erasure = %+v, want nothing left to erase", again.EraseDataSubject)
	}

	checkErasedAPI := func(when string) {
		t.Helper()
		var a struct {
			Account struct{ Owner string } `json:"account"`
			Past    struct{ Owner string } `json:"past"`
			History struct {
				Edges []struct {
					Node struct{ Payload json.RawMessage } `json:"node"`
				} `json:"edges"`
			} `json:"history"`
		}
		c.MustSucceed(t, erasedAccountQuery, servertest.Vars{"id": acct}, &a)
		if a.Account.Owner != datasubject.Erased || a.Past.Owner != datasubject.Erased ||
			!strings.Contains(string(a.History.Edges[0].Node.Payload), datasubject.Erased) {
			t.Errorf("%s: account shows owner %q, at version 1 %q, history %s; want %q", when, a.Account.Owner, a.Past.Owner,
				a.History.Edges[0].Node.Payload, datasubject.Erased)
		}
		for _, id := range []string{pay, orderPayment} {
			var p struct {
				Payment, Past struct{ CustomerName, CustomerEmail string }
			}
			c.MustSucceed(t, erasedPaymentQuery, servertest.Vars{"id": id}, &p)
			if p.Payment.CustomerName != datasubject.Erased || p.Payment.CustomerEmail != datasubject.Erased || p.Past.CustomerName != datasubject.Erased {
				t.Errorf("%s: payment %s shows %+v, at version 1 %+v", when, id, p.Payment, p.Past)
			}
		}
		var o struct {
			Order, Past struct{ CustomerName, CustomerEmail string }
		}
		c.MustSucceed(t, erasedOrderQuery, servertest.Vars{"id": ord}, &o)
		if o.Order.CustomerName != datasubject.Erased || o.Order.CustomerEmail != datasubject.Erased || o.Past.CustomerName != datasubject.Erased {
			t.Errorf("%s: order shows %+v, at version 1 %+v", when, o.Order, o.Past)
		}
		if l := listAccounts(t, c, servertest.Vars{"owner": name}); len(l.Accounts.Edges) != 0 {
			t.Errorf("%s: accounts(owner: %q) still finds %d accounts", when, name, len(l.Accounts.Edges))
		}
	}
	checkErasedAPI("after the erasure")

	// Rebuild every read model from the events, as cmd/rebuild does.
	rebuildAll(t, srv.Server.Pool())
	checkErasedAPI("after the rebuilds")
	if hits := findPersonalData(t, srv.Server.Pool(), nil, name, email); len(hits) > 0 {
		t.Errorf("the database still holds the subject's data: %v", hits)
	}
	if hits := findInRedis(t, cfg, name, email); len(hits) > 0 {
		t.Errorf("Redis still holds the subject's data: %v", hits)
	}

	// The subject may come back: new data gets a new key, and shows.
	c.MustSucceed(t, initiateMutation, in("customerName", name, "customerEmail", email, "amount", "1.00", "currency", "EUR"), &initiated)
	if p := initiated.InitiatePayment.Payment; p.CustomerName != name {
		t.Errorf("a payment after the erasure shows %q, want %q", p.CustomerName, name)
	}
}

// rebuildAll rebuilds every registered read model in pool's database, with
// the test servers' master key.
func rebuildAll(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	registry := module.NewRegistry(module.Deps{Pool: pool, Hub: live.NewHub()}, nil)
	if _, err := graph.NewResolver(registry, nil); err != nil {
		t.Fatal(err)
	}
	master, err := datasubject.ParseMasterKey(servertest.TestMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range registry.Projections() {
		if _, ok := p.(projection.Rebuildable); !ok {
			continue
		}
		if _, err := projection.Rebuild(ctxTimeout(t, time.Minute), pool, p, projection.RebuildOptions{Opener: datasubject.NewKeys(master)}); err != nil {
			t.Fatalf("rebuild %s: %v", p.Name(), err)
		}
	}
}

// encodings returns the forms in which each value could be stored: as is,
// lower-cased, JSON-escaped (Go's and every character \u-escaped), and as
// hex (how a bytea column reads as text).
func encodings(values ...string) []string {
	var out []string
	for _, v := range values {
		var u strings.Builder
		for _, r := range v {
			fmt.Fprintf(&u, `\u%04x`, r)
		}
		j, _ := json.Marshal(v)
		out = append(out, v, strings.ToLower(v), strings.Trim(string(j), `"`), u.String(), hex.EncodeToString([]byte(v)))
	}
	return out
}

// findPersonalData searches every column of the given tables (nil: of
// every table outside the system schemas) for any encoding of values,
// case-insensitively, and returns "table: needle" for each hit.
func findPersonalData(t *testing.T, pool *pgxpool.Pool, tables []string, values ...string) []string {
	t.Helper()
	ctx := ctxTimeout(t, 30*time.Second)
	if tables == nil {
		rows, err := pool.Query(ctx, `SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
			WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`)
		if err != nil {
			t.Fatal(err)
		}
		if tables, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
		if len(tables) < 10 {
			t.Fatalf("found only tables %v", tables)
		}
	}
	var hits []string
	for _, table := range tables {
		for _, needle := range encodings(values...) {
			var n int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+table+` t WHERE t::text ILIKE '%' || $1 || '%'`, needle).Scan(&n); err != nil {
				t.Fatalf("search %s: %v", table, err)
			}
			if n > 0 {
				hits = append(hits, fmt.Sprintf("%s: %d rows with %q", table, n, needle))
			}
		}
	}
	return hits
}

// findInRedis searches every key of cfg's database in Redis (the keys
// under "chronicle:<database>:") and its value for any encoding of values.
func findInRedis(t *testing.T, cfg config.Config, values ...string) []string {
	t.Helper()
	ctx := ctxTimeout(t, 30*time.Second)
	pc, err := pgx.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	var hits []string
	keys, err := rdb.Keys(ctx, "chronicle:"+pc.Database+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no keys in Redis: the read cache was not used, the search proves nothing")
	}
	for _, key := range keys {
		var content []string
		switch typ := rdb.Type(ctx, key).Val(); typ {
		case "string":
			content = []string{rdb.Get(ctx, key).Val()}
		case "hash":
			for k, v := range rdb.HGetAll(ctx, key).Val() {
				content = append(content, k, v)
			}
		case "set":
			content = rdb.SMembers(ctx, key).Val()
		case "list":
			content = rdb.LRange(ctx, key, 0, -1).Val()
		case "zset":
			content = rdb.ZRange(ctx, key, 0, -1).Val()
		}
		text := strings.ToLower(key + " " + strings.Join(content, " "))
		for _, needle := range encodings(values...) {
			if strings.Contains(text, strings.ToLower(needle)) {
				hits = append(hits, fmt.Sprintf("%s: %q", key, needle))
			}
		}
	}
	return hits
}
