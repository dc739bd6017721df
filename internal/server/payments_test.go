package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

const (
	paymentFields = `id customerName customerEmail amount { amount currency } refunded { amount } refundable { amount }
		status failureReason initiatedBy processedBy failedBy refundedBy initiatedAt processedAt refundedAt version
		refunds { amount { amount } reason refundedBy }`
	initiateMutation = `mutation($input: InitiatePaymentInput!) { initiatePayment(input: $input) {
		paymentId position version upToDate duplicate payment { ` + paymentFields + ` } } }`
	processMutation = `mutation($input: ProcessPaymentInput!) { processPayment(input: $input) { version payment { ` + paymentFields + ` } } }`
	failMutation    = `mutation($input: FailPaymentInput!) { failPayment(input: $input) { version payment { ` + paymentFields + ` } } }`
	refundMutation  = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { version payment { ` + paymentFields + ` } } }`
	paymentQuery    = `query($id: ID!) { payment(id: $id) { ` + paymentFields + ` } }`
	paymentsQuery   = `query($status: PaymentStatus, $first: Int, $after: String, $from: Time, $to: Time) {
		payments(status: $status, first: $first, after: $after, from: $from, to: $to) {
			edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }`
	analyticsFields = `from to bucket
		totals { payments byStatus { status count } byCurrency { currency payments processedCount
			processedTotal { amount } processedAverage { amount } refundedCount refundedTotal { amount } refundedAverage { amount } } }
		series { start totals { payments byStatus { status count } } }`
	analyticsQuery = `query($from: Time!, $to: Time!, $bucket: AnalyticsBucket!) {
		paymentAnalytics(from: $from, to: $to, bucket: $bucket) { ` + analyticsFields + ` } }`
	paymentUpdatedSub   = `subscription($id: ID!) { paymentUpdated(id: $id) { id status version refunded { amount } } }`
	analyticsUpdatedSub = `subscription($from: Time!, $to: Time!) {
		paymentAnalyticsUpdated(from: $from, to: $to, bucket: HOUR) { ` + analyticsFields + ` } }`
)

type paymentView struct {
	ID            string `json:"id"`
	CustomerName  string `json:"customerName"`
	CustomerEmail string `json:"customerEmail"`
	Amount        struct {
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Refunded      struct{ Amount string } `json:"refunded"`
	Refundable    struct{ Amount string } `json:"refundable"`
	Status        string                  `json:"status"`
	FailureReason *string                 `json:"failureReason"`
	InitiatedBy   string                  `json:"initiatedBy"`
	ProcessedBy   *string                 `json:"processedBy"`
	FailedBy      *string                 `json:"failedBy"`
	RefundedBy    *string                 `json:"refundedBy"`
	Version       int                     `json:"version"`
	Refunds       []struct {
		Amount     struct{ Amount string } `json:"amount"`
		Reason     string                  `json:"reason"`
		RefundedBy string                  `json:"refundedBy"`
	} `json:"refunds"`
}

type analytics struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Totals struct {
		Payments int `json:"payments"`
		ByStatus []struct {
			Status string `json:"status"`
			Count  int    `json:"count"`
		} `json:"byStatus"`
		ByCurrency []struct {
			Currency         string                   `json:"currency"`
			Payments         int                      `json:"payments"`
			ProcessedCount   int                      `json:"processedCount"`
			ProcessedTotal   struct{ Amount string }  `json:"processedTotal"`
			ProcessedAverage *struct{ Amount string } `json:"processedAverage"`
			RefundedCount    int                      `json:"refundedCount"`
			RefundedTotal    struct{ Amount string }  `json:"refundedTotal"`
			RefundedAverage  *struct{ Amount string } `json:"refundedAverage"`
		} `json:"byCurrency"`
	} `json:"totals"`
	Series []struct {
		Start string `json:"start"`
	} `json:"series"`
}

func (a analytics) count(status string) int {
	for _, s := range a.Totals.ByStatus {
		if s.Status == status {
			return s.Count
		}
	}
	return -1
}

func initiate(t *testing.T, c *servertest.Client, amount, currency string) paymentView {
	t.Helper()
	var out struct {
		InitiatePayment struct {
			PaymentID string      `json:"paymentId"`
			UpToDate  bool        `json:"upToDate"`
			Payment   paymentView `json:"payment"`
		} `json:"initiatePayment"`
	}
	c.MustSucceed(t, initiateMutation, servertest.Vars{"input": servertest.Vars{
		"customerName": "Ada Lovelace", "customerEmail": "ada@example.com", "amount": amount, "currency": currency}}, &out)
	if !out.InitiatePayment.UpToDate || out.InitiatePayment.Payment.ID != out.InitiatePayment.PaymentID {
		t.Fatalf("initiatePayment: %+v", out.InitiatePayment)
	}
	return out.InitiatePayment.Payment
}

// move runs a transition mutation and returns the payment after it.
func move(t *testing.T, c *servertest.Client, mutation, field string, input servertest.Vars) paymentView {
	t.Helper()
	var out map[string]struct {
		Payment paymentView `json:"payment"`
	}
	c.MustSucceed(t, mutation, servertest.Vars{"input": input}, &out)
	return out[field].Payment
}

func paymentAnalytics(t *testing.T, c *servertest.Client, from, to time.Time, bucket string) analytics {
	t.Helper()
	var out struct {
		PaymentAnalytics analytics `json:"paymentAnalytics"`
	}
	c.MustSucceed(t, analyticsQuery, servertest.Vars{"from": from, "to": to, "bucket": bucket}, &out)
	return out.PaymentAnalytics
}

// startWithCache starts a server whose read cache is on a private Redis.
func startWithCache(t *testing.T) *servertest.Server {
	t.Helper()
	rs := redistest.Start(t)
	return servertest.Start(t, func(c *config.Config) { c.RedisURL = rs.URL() })
}

// TestPaymentLifecycleOverGraphQL: the lifecycle end to end, who did what
// from the tokens, validation and transition errors, lists and analytics.
func TestPaymentLifecycleOverGraphQL(t *testing.T) {
	srv := startWithCache(t)
	alice, bob := srv.ClientAs("alice", "acme"), srv.ClientAs("bob", "acme")

	p := initiate(t, alice, "100.00", "EUR")
	if p.Status != "INITIATED" || p.InitiatedBy != "alice" || p.Amount.Amount != "100.00" || p.Refundable.Amount != "0.00" || p.Version != 1 {
		t.Fatalf("initiated: %+v", p)
	}
	// Illegal transitions, bad input: nothing appended.
	bob.MustFail(t, "INVALID_STATE_TRANSITION", refundMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID, "reason": "x"}})
	alice.MustFail(t, "BAD_USER_INPUT", initiateMutation, servertest.Vars{"input": servertest.Vars{
		"customerName": "Ada", "customerEmail": "not-an-address", "amount": "1.00", "currency": "EUR"}})
	alice.MustFail(t, "BAD_USER_INPUT", initiateMutation, servertest.Vars{"input": servertest.Vars{
		"customerName": "Ada", "customerEmail": "ada@example.com", "amount": "0", "currency": "EUR"}})
	alice.MustFail(t, "BAD_USER_INPUT", initiateMutation, servertest.Vars{"input": servertest.Vars{
		"customerName": "Ada", "customerEmail": "ada@example.com", "amount": "1.5", "currency": "JPY"}})
	alice.MustFail(t, "NOT_FOUND", processMutation, servertest.Vars{"input": servertest.Vars{"id": randomUUID()}})

	p = move(t, bob, processMutation, "processPayment", servertest.Vars{"id": p.ID})
	if p.Status != "PROCESSED" || p.ProcessedBy == nil || *p.ProcessedBy != "bob" || p.Refundable.Amount != "100.00" || p.Version != 2 {
		t.Fatalf("processed: %+v", p)
	}
	bob.MustFail(t, "INVALID_STATE_TRANSITION", failMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID, "reason": "late"}})
	bob.MustFail(t, "BAD_USER_INPUT", refundMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID, "reason": "x", "amount": "100.01"}})
	bob.MustFail(t, "CONFLICT", refundMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID, "reason": "x", "expectedVersion": 1}})

	p = move(t, alice, refundMutation, "refundPayment", servertest.Vars{"id": p.ID, "reason": "damaged", "amount": "30.00"})
	if p.Status != "PARTIALLY_REFUNDED" || p.Refunded.Amount != "30.00" || p.Refundable.Amount != "70.00" || *p.RefundedBy != "alice" {
		t.Fatalf("partially refunded: %+v", p)
	}
	p = move(t, bob, refundMutation, "refundPayment", servertest.Vars{"id": p.ID, "reason": "returned"})
	if p.Status != "REFUNDED" || p.Refunded.Amount != "100.00" || p.Refundable.Amount != "0.00" || len(p.Refunds) != 2 ||
		p.Refunds[0].Amount.Amount != "30.00" || p.Refunds[1].RefundedBy != "bob" || p.Refunds[1].Reason != "returned" {
		t.Fatalf("refunded: %+v", p)
	}
	bob.MustFail(t, "INVALID_STATE_TRANSITION", refundMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID, "reason": "again"}})

	// A failed one, and one left initiated, in another currency.
	f := initiate(t, alice, "500", "JPY")
	f = move(t, alice, failMutation, "failPayment", servertest.Vars{"id": f.ID, "reason": "card declined"})
	if f.Status != "FAILED" || *f.FailureReason != "card declined" || *f.FailedBy != "alice" {
		t.Fatalf("failed: %+v", f)
	}
	i := initiate(t, bob, "12.34", "USD")

	// The query reads what the payloads returned.
	var got struct {
		Payment paymentView `json:"payment"`
	}
	alice.MustSucceed(t, paymentQuery, servertest.Vars{"id": p.ID}, &got)
	if got.Payment.Status != "REFUNDED" || got.Payment.Version != 4 {
		t.Fatalf("payment(id): %+v", got.Payment)
	}
	// Newest first, filtered, paged.
	var list struct {
		Payments struct {
			Edges []struct {
				Cursor string
				Node   struct{ ID, Status string }
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	alice.MustSucceed(t, paymentsQuery, servertest.Vars{"first": 2}, &list)
	if e := list.Payments.Edges; len(e) != 2 || e[0].Node.ID != i.ID || e[1].Node.ID != f.ID || !list.Payments.PageInfo.HasNextPage {
		t.Fatalf("payments page 1: %+v", list.Payments)
	}
	alice.MustSucceed(t, paymentsQuery, servertest.Vars{"first": 2, "after": list.Payments.PageInfo.EndCursor}, &list)
	if e := list.Payments.Edges; len(e) != 1 || e[0].Node.ID != p.ID || list.Payments.PageInfo.HasNextPage {
		t.Fatalf("payments page 2: %+v", list.Payments)
	}
	alice.MustSucceed(t, paymentsQuery, servertest.Vars{"status": "FAILED"}, &list)
	if e := list.Payments.Edges; len(e) != 1 || e[0].Node.ID != f.ID {
		t.Fatalf("FAILED payments: %+v", list.Payments)
	}
	future := time.Now().Add(time.Hour)
	alice.MustSucceed(t, paymentsQuery, servertest.Vars{"from": future}, &list)
	if len(list.Payments.Edges) != 0 {
		t.Fatalf("payments from the future: %+v", list.Payments)
	}
	alice.MustFail(t, "BAD_USER_INPUT", paymentsQuery, servertest.Vars{"from": future, "to": future.Add(-time.Minute)})

	// Analytics.
	now := time.Now().UTC()
	a := paymentAnalytics(t, alice, now.Add(-3*time.Hour), now.Add(time.Minute), "HOUR")
	if a.Totals.Payments != 3 || a.count("REFUNDED") != 1 || a.count("FAILED") != 1 || a.count("INITIATED") != 1 || a.count("PROCESSED") != 0 || len(a.Series) != 4 {
		t.Fatalf("analytics: %+v", a)
	}
	eur := a.Totals.ByCurrency[0]
	if len(a.Totals.ByCurrency) != 3 || eur.Currency != "EUR" || eur.ProcessedCount != 1 || eur.ProcessedTotal.Amount != "100.00" ||
		eur.ProcessedAverage.Amount != "100.00" || eur.RefundedCount != 1 || eur.RefundedTotal.Amount != "100.00" ||
		a.Totals.ByCurrency[1].Currency != "JPY" || a.Totals.ByCurrency[1].ProcessedAverage != nil {
		t.Fatalf("analytics by currency: %+v", a.Totals.ByCurrency)
	}
	alice.MustFail(t, "BAD_USER_INPUT", analyticsQuery, servertest.Vars{"from": now, "to": now.Add(-time.Hour), "bucket": "HOUR"})
	alice.MustFail(t, "BAD_USER_INPUT", analyticsQuery, servertest.Vars{"from": now.Add(-40 * 24 * time.Hour), "to": now, "bucket": "HOUR"})
	if d := paymentAnalytics(t, alice, now.Add(-72*time.Hour), now, "DAY"); len(d.Series) < 3 || d.Totals.Payments != 3 {
		t.Fatalf("daily analytics: %+v", d)
	}
}

// TestTenantIsolation: another organization's payments and accounts are not
// found, for queries, mutations and subscriptions, and its changes reach no
// other organization's live dashboard.
func TestTenantIsolation(t *testing.T) {
	srv := startWithCache(t)
	acme, globex := srv.ClientAs("alice", "acme"), srv.ClientAs("eve", "globex")
	p := initiate(t, acme, "10.00", "EUR")
	acc := open(t, acme, servertest.Vars{"owner": "Ada", "currency": "EUR", "initialBalance": "5.00"})

	globex.MustFail(t, "NOT_FOUND", paymentQuery, servertest.Vars{"id": p.ID})
	globex.MustFail(t, "NOT_FOUND", processMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID}})
	globex.MustFail(t, "NOT_FOUND", failMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID, "reason": "x"}})
	globex.MustFail(t, "NOT_FOUND", refundMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID, "reason": "x"}})
	globex.MustFail(t, "NOT_FOUND", `query($id: ID!) { account(id: $id) { id } }`, servertest.Vars{"id": acc.Account.ID})
	globex.MustFail(t, "NOT_FOUND", creditMutation, servertest.Vars{"input": servertest.Vars{"id": acc.Account.ID, "amount": "1.00"}})
	globex.MustFail(t, "NOT_FOUND", historyQuery, servertest.Vars{"id": acc.Account.ID})
	if l := listAccounts(t, globex, nil); len(l.Accounts.Edges) != 0 {
		t.Fatalf("globex lists acme's accounts: %+v", l.Accounts.Edges)
	}
	var list struct {
		Payments struct{ Edges []any }
	}
	globex.MustSucceed(t, paymentsQuery, nil, &list)
	if len(list.Payments.Edges) != 0 {
		t.Fatalf("globex lists acme's payments: %+v", list.Payments.Edges)
	}
	now := time.Now().UTC()
	if a := paymentAnalytics(t, globex, now.Add(-time.Hour), now.Add(time.Hour), "HOUR"); a.Totals.Payments != 0 {
		t.Fatalf("globex sees acme's analytics: %+v", a.Totals)
	}
	// The same idempotency key in two organizations: two payments.
	key := servertest.Vars{"customerName": "K", "customerEmail": "k@example.com", "amount": "1.00", "currency": "EUR", "idempotencyKey": "same-key"}
	var k1, k2 struct {
		InitiatePayment struct {
			PaymentID string
			Duplicate bool
		}
	}
	acme.MustSucceed(t, initiateMutation, servertest.Vars{"input": key}, &k1)
	globex.MustSucceed(t, initiateMutation, servertest.Vars{"input": key}, &k2)
	if k1.InitiatePayment.PaymentID == k2.InitiatePayment.PaymentID || k2.InitiatePayment.Duplicate {
		t.Fatalf("an idempotency key crossed organizations: %+v %+v", k1, k2)
	}
	acme.MustSucceed(t, initiateMutation, servertest.Vars{"input": key}, &k2)
	if k2.InitiatePayment.PaymentID != k1.InitiatePayment.PaymentID || !k2.InitiatePayment.Duplicate {
		t.Fatalf("a retried initiatePayment: %+v, want the first payment %s", k2, k1.InitiatePayment.PaymentID)
	}

	// Subscriptions: globex cannot follow acme's payment; each organization's
	// dashboard moves with its own payments only.
	ctx := ctxTimeout(t, 30*time.Second)
	dial := func(c *servertest.Client) *subs {
		ws, _, err := c.DialWS(ctx, servertest.GraphQLTransportWS, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ws.Abort)
		mustInit(t, ws, nil)
		return newSubs(t, ws)
	}
	ga, aa := dial(globex), dial(acme)
	ga.subscribe("steal", paymentUpdatedSub, servertest.Vars{"id": p.ID})
	if code := ga.errorCode("steal"); code != "NOT_FOUND" {
		t.Fatalf("globex paymentUpdated(acme's payment): %s, want NOT_FOUND", code)
	}
	window := servertest.Vars{"from": now.Add(-time.Hour), "to": now.Add(time.Hour)}
	ga.subscribe("dash", analyticsUpdatedSub, window)
	aa.subscribe("dash", analyticsUpdatedSub, window)
	aa.subscribe("pay", paymentUpdatedSub, servertest.Vars{"id": p.ID})
	var first struct {
		PaymentAnalyticsUpdated analytics `json:"paymentAnalyticsUpdated"`
	}
	ga.data("dash", &first)
	if first.PaymentAnalyticsUpdated.Totals.Payments != 1 { // its own keyed payment
		t.Fatalf("globex dashboard: %+v", first.PaymentAnalyticsUpdated.Totals)
	}
	aa.data("dash", &first)
	if first.PaymentAnalyticsUpdated.Totals.Payments != 2 || first.PaymentAnalyticsUpdated.count("INITIATED") != 2 {
		t.Fatalf("acme dashboard: %+v", first.PaymentAnalyticsUpdated.Totals)
	}
	var upd struct {
		PaymentUpdated struct {
			ID      string
			Status  string
			Version int
		} `json:"paymentUpdated"`
	}
	aa.data("pay", &upd)
	if upd.PaymentUpdated.Status != "INITIATED" || upd.PaymentUpdated.Version != 1 {
		t.Fatalf("paymentUpdated first: %+v", upd.PaymentUpdated)
	}

	move(t, acme, processMutation, "processPayment", servertest.Vars{"id": p.ID})
	aa.data("pay", &upd)
	if upd.PaymentUpdated.Status != "PROCESSED" || upd.PaymentUpdated.Version != 2 {
		t.Fatalf("paymentUpdated after processing: %+v", upd.PaymentUpdated)
	}
	aa.data("dash", &first)
	if a := first.PaymentAnalyticsUpdated; a.count("PROCESSED") != 1 || a.count("INITIATED") != 1 {
		t.Fatalf("acme dashboard after processing: %+v", a.Totals)
	}
	ga.noMessage("dash", 500*time.Millisecond)
}

// TestPaymentSubscriptionNeedsAuthentication: a WebSocket without a token
// subscribes to nothing.
func TestPaymentSubscriptionNeedsAuthentication(t *testing.T) {
	srv := servertest.Start(t, nil)
	ws, _, err := srv.ClientWithToken("").DialWS(context.Background(), servertest.GraphQLTransportWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Abort()
	if err := ws.Init(ctxTimeout(t, 5*time.Second), nil); err == nil {
		t.Fatal("connection_init without a token was acknowledged")
	}
}
