package server_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// The shop's entities through time: the fields compared, their provenance
// included, so a state read in the past must also name the event, actor,
// command and correlation id that produced it.
const (
	changeFields      = `lastChange { position eventId type recordedAt actor commandId correlationId }`
	travelProductFrag = `
fragment TravelProduct on Product {
  id sku title category description status version addedAt updatedAt attributes
  price { amount currency }
  stock { productId onHand reserved available version updatedAt ` + changeFields + ` }
  ` + changeFields + `
}`
	travelOrderFrag = `
fragment TravelOrder on Order {
  id customerName customerEmail status reason paymentId version placedAt updatedAt
  total { amount currency }
  lines { productId quantity unitPrice { amount currency } amount { amount currency } }
  ` + changeFields + `
}`
	pastProductQuery = `query($id: ID!, $asOf: Time, $atVersion: Int) { product(id: $id, asOf: $asOf, atVersion: $atVersion) { ...TravelProduct } }` + travelProductFrag
	pastOrderQuery   = `query($id: ID!, $asOf: Time, $atVersion: Int) { order(id: $id, asOf: $asOf, atVersion: $atVersion) { ...TravelOrder } }` + travelOrderFrag
)

// state is an entity as the API showed it, decoded generically so that
// every field is compared.
type state = map[string]any

// field walks a path of object members of s ("stock", "lastChange",
// "actor"); nil when absent.
func field(s state, path ...string) any {
	var v any = s
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(s state, path ...string) string { x, _ := field(s, path...).(string); return x }

func version(s state, path ...string) int { x, _ := field(s, path...).(float64); return int(x) }

// asActor returns a client of the test organization acting as subject,
// sending correlation as its X-Correlation-ID.
func asActor(srv *servertest.Server, subject, correlation string) *servertest.Client {
	c := srv.ClientAs(subject, servertest.DefaultIdentity.Organization)
	c.Header = http.Header{"X-Correlation-Id": {correlation}}
	return c
}

// checkPast reads every recorded state of entity id again through query
// (product or order, by member name): by atVersion (the first state
// recorded at each version: the moment that version was made) and by asOf
// (the state's moment), and fails unless each equals what the read model
// showed. Then the edges: NOT_FOUND before the entity existed,
// BAD_USER_INPUT beyond its last version, at version 0 or with both
// arguments, NOT_FOUND for another organization.
func checkPast(t *testing.T, srv *servertest.Server, query, member, id string, states []state, moment func(state) string, created string) {
	t.Helper()
	c := srv.Client()
	read := func(vars servertest.Vars) state {
		t.Helper()
		var out map[string]state
		c.MustSucceed(t, query, vars, &out)
		return out[member]
	}
	atVersion := map[int]bool{}
	last := 0
	for _, want := range states {
		v := version(want, "version")
		if !atVersion[v] {
			atVersion[v] = true
			if got := read(servertest.Vars{"id": id, "atVersion": v}); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s atVersion %d = %v\nthe read model showed %v", member, v, got, want)
			}
		}
		if got := read(servertest.Vars{"id": id, "asOf": moment(want)}); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s asOf %s = %v\nthe read model showed %v", member, moment(want), got, want)
		}
		last = max(last, v)
	}
	for v := 1; v <= last; v++ {
		if !atVersion[v] {
			t.Fatalf("%s version %d was never recorded", member, v)
		}
	}
	born, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		t.Fatal(err)
	}
	c.MustFail(t, "NOT_FOUND", query, servertest.Vars{"id": id, "asOf": born.Add(-time.Microsecond).Format(time.RFC3339Nano)})
	c.MustFail(t, "BAD_USER_INPUT", query, servertest.Vars{"id": id, "atVersion": last + 1})
	c.MustFail(t, "BAD_USER_INPUT", query, servertest.Vars{"id": id, "atVersion": 0})
	c.MustFail(t, "BAD_USER_INPUT", query, servertest.Vars{"id": id, "atVersion": 1, "asOf": created})
	other := srv.ClientAs("gus", "globex")
	other.MustFail(t, "NOT_FOUND", query, servertest.Vars{"id": id, "atVersion": 1})
	other.MustFail(t, "NOT_FOUND", query, servertest.Vars{"id": id, "asOf": moment(states[len(states)-1])})
	other.MustFail(t, "NOT_FOUND", query, servertest.Vars{"id": id})
}

// streamEvents is a page of an entity's history: its events' types and
// versions.
type streamEvents struct {
	Edges []struct {
		Node struct {
			Type    string `json:"type"`
			Version int    `json:"version"`
		} `json:"node"`
	} `json:"edges"`
}

// checkHistory fails unless entity id's history lists its stream, versions
// 1 to last, and history(types) only those of types, in order.
func checkHistory(t *testing.T, c *servertest.Client, member, id string, last int, types []string) {
	t.Helper()
	var out map[string]struct{ All, Some streamEvents }
	c.MustSucceed(t, fmt.Sprintf(`query($id: ID!, $types: [String!]) { %s(id: $id) {
		all: history { edges { node { type version } } }
		some: history(types: $types) { edges { node { type version } } } } }`, member),
		servertest.Vars{"id": id, "types": types}, &out)
	all, some := out[member].All.Edges, out[member].Some.Edges
	if len(all) != last {
		t.Fatalf("%s history has %d events, want %d", member, len(all), last)
	}
	var want []int
	for i, e := range all {
		if e.Node.Version != i+1 {
			t.Fatalf("%s history #%d is version %d", member, i, e.Node.Version)
		}
		if slices.Contains(types, e.Node.Type) {
			want = append(want, e.Node.Version)
		}
	}
	var got []int
	for _, e := range some {
		if !slices.Contains(types, e.Node.Type) {
			t.Fatalf("%s history(types: %v) lists a %s", member, types, e.Node.Type)
		}
		got = append(got, e.Node.Version)
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("%s history(types: %v) = versions %v, want %v", member, types, got, want)
	}
}

// laterOf returns the later of two RFC 3339 times ("" counts as never).
func laterOf(t *testing.T, a, b string) string {
	t.Helper()
	if b == "" {
		return a
	}
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	if err1 != nil || err2 != nil {
		t.Fatalf("times %q, %q: %v %v", a, b, err1, err2)
	}
	if tb.After(ta) {
		return b
	}
	return a
}

// TestProductTimeTravel runs 40 random commands on one product (title and
// description updates, price changes, restocks; then it is discontinued
// and restocked once more), each by one of two actors with a correlation
// id of its own, and records what the read model showed after each. Every
// recorded state, its stock and both lastChanges included, is read again
// by atVersion and by asOf, and must be the same; the lastChanges name the
// command's actor, correlation id and a command id of their own.
func TestProductTimeTravel(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	rnd := rand.New(rand.NewPCG(7, 11))
	actors := []string{"alice", "bob"}
	type step struct {
		state              state
		actor, correlation string
		stock              bool // a stock command (the product's lastChange stays)
	}
	var steps []step
	var id string
	send := func(mutation, member string, input servertest.Vars, stock bool) {
		t.Helper()
		actor, corr := actors[rnd.IntN(len(actors))], randomUUID()
		c := asActor(srv, actor, corr)
		var out map[string]struct {
			ProductID string `json:"productId"`
			UpToDate  bool   `json:"upToDate"`
			Product   state  `json:"product"`
		}
		c.MustSucceed(t, mutation, servertest.Vars{"input": input}, &out)
		p := out[member]
		id = p.ProductID
		s := p.Product
		if stock || !p.UpToDate {
			// The read model once it shows the command (a payload that
			// is not up to date, on a loaded machine, shows an older
			// state).
			change := []string{"lastChange", "correlationId"}
			if stock {
				change = []string{"stock", "lastChange", "correlationId"}
			}
			eventually(t, 10*time.Second, member+" projected", func() bool {
				var q map[string]state
				c.MustSucceed(t, pastProductQuery, servertest.Vars{"id": id}, &q)
				s = q["product"]
				return str(s, change...) == corr
			})
		}
		steps = append(steps, step{state: s, actor: actor, correlation: corr, stock: stock})
	}
	const (
		add         = `mutation($input: AddProductInput!) { addProduct(input: $input) { productId upToDate product { ...TravelProduct } } }` + travelProductFrag
		update      = `mutation($input: UpdateProductInput!) { updateProduct(input: $input) { productId upToDate product { ...TravelProduct } } }` + travelProductFrag
		price       = `mutation($input: ChangeProductPriceInput!) { changeProductPrice(input: $input) { productId upToDate product { ...TravelProduct } } }` + travelProductFrag
		discontinue = `mutation($input: DiscontinueProductInput!) { discontinueProduct(input: $input) { productId upToDate product { ...TravelProduct } } }` + travelProductFrag
		restockOp   = `mutation($input: RestockProductInput!) { restockProduct(input: $input) { productId upToDate } }`
	)
	send(add, "addProduct", book("TT-"+randomSuffix(), "Time Travel", 220, "9.90")["input"].(servertest.Vars), false)
	for i := range 40 {
		switch rnd.IntN(3) {
		case 0:
			send(update, "updateProduct", servertest.Vars{"id": id, "title": fmt.Sprintf("Time Travel, edition %d", i),
				"description": fmt.Sprintf("Revised %d times.", i)}, false)
		case 1:
			send(price, "changeProductPrice", servertest.Vars{"id": id, "price": fmt.Sprintf("%d.%02d", 5+rnd.IntN(20), rnd.IntN(100)), "currency": "EUR"}, false)
		default:
			send(restockOp, "restockProduct", servertest.Vars{"id": id, "quantity": 1 + rnd.IntN(9)}, true)
		}
	}
	send(discontinue, "discontinueProduct", servertest.Vars{"id": id}, false)
	send(restockOp, "restockProduct", servertest.Vars{"id": id, "quantity": 3}, true)

	// Provenance: each state names the command that made it.
	commands := map[string]bool{}
	var states []state
	for i, st := range steps {
		lc := field(st.state, "lastChange").(map[string]any)
		if st.stock {
			lc = field(st.state, "stock", "lastChange").(map[string]any)
		}
		if lc["actor"] != st.actor || lc["correlationId"] != st.correlation || lc["commandId"] == "" || commands[lc["commandId"].(string)] {
			t.Fatalf("step %d by %s (correlation %s): lastChange %v", i, st.actor, st.correlation, lc)
		}
		commands[lc["commandId"].(string)] = true
		states = append(states, st.state)
	}
	if s := steps[0].state; field(s, "stock", "lastChange") != nil || version(s, "stock", "version") != 0 {
		t.Fatalf("a new product's stock %v, want version 0 without a lastChange", field(s, "stock"))
	}
	moment := func(s state) string { return laterOf(t, str(s, "updatedAt"), str(s, "stock", "updatedAt")) }
	checkPast(t, srv, pastProductQuery, "product", id, states, moment, str(states[0], "addedAt"))
	last := states[len(states)-1]
	checkHistory(t, srv.Client(), "product", id, version(last, "version"), []string{"ProductPriceChanged", "ProductDiscontinued"})
	var stockHistory struct {
		Product struct {
			Stock struct {
				History streamEvents `json:"history"`
			} `json:"stock"`
		} `json:"product"`
	}
	srv.Client().MustSucceed(t, `query($id: ID!) { product(id: $id) { stock { history(types: ["StockRestocked"]) { edges { node { type } } } } } }`,
		servertest.Vars{"id": id}, &stockHistory)
	if n := len(stockHistory.Product.Stock.History.Edges); n != version(last, "stock", "version") || n == 0 {
		t.Fatalf("stock history lists %d restocks, the stock is at version %d", n, version(last, "stock", "version"))
	}
}

// payloadOf is an order mutation's payload.
type payloadOf struct {
	OrderID  string `json:"orderId"`
	UpToDate bool   `json:"upToDate"`
	Order    state  `json:"order"`
}

// orderRun is one order of TestOrderTimeTravel and what was seen of it.
type orderRun struct {
	id, customer string
	// byCustomer are the versions a customer's command made, with that
	// command's correlation id; the process made the others, each
	// correlated to the mutation that set it off (correlation).
	byCustomer  map[int]string
	correlation map[int]string
	// recorded are the mutations' payloads that were up to date.
	recorded []state
	final    string
}

// record keeps a payload's order when it shows the mutation's effect.
func (r *orderRun) record(p payloadOf) {
	if p.UpToDate && p.Order != nil {
		r.recorded = append(r.recorded, p.Order)
	}
}

// TestOrderTimeTravel places orders that take random paths: paid (and
// perhaps shipped), payment failed, cancelled by the customer while it
// awaits payment, rejected for want of stock; the fulfilment process
// makes most of their versions. Each order's states are recorded as the
// read model showed them, every version once (orderUpdated), and each is
// read again by atVersion and by asOf; its lastChange names the customer
// or the process, and the correlation id of the mutation that set it off.
func TestOrderTimeTravel(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	rnd := rand.New(rand.NewPCG(3, 5))
	product := addProduct(t, c, book("TT-ORDER-"+randomSuffix(), "Ordered Through Time", 180, "4.25")).ProductID
	scarce := addProduct(t, c, book("TT-SCARCE-"+randomSuffix(), "Out of Print", 90, "30.00")).ProductID
	restock(t, c, product, 100)

	order := func(id string) state {
		t.Helper()
		var out map[string]state
		c.MustSucceed(t, pastOrderQuery, servertest.Vars{"id": id}, &out)
		return out["order"]
	}
	awaiting := func(id string) state {
		t.Helper()
		var o state
		eventually(t, 15*time.Second, "order "+id+" to await its payment", func() bool {
			o = order(id)
			return str(o, "status") == "AWAITING_PAYMENT"
		})
		return o
	}
	settled := func(id, status string) {
		t.Helper()
		eventually(t, 15*time.Second, "order "+id+" to be "+status, func() bool { return str(order(id), "status") == status })
	}
	const (
		placeOp   = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId upToDate order { ...TravelOrder } } }` + travelOrderFrag
		cancelOp  = `mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { upToDate order { ...TravelOrder } } }` + travelOrderFrag
		shipOp    = `mutation($input: ShipOrderInput!) { shipOrder(input: $input) { upToDate order { ...TravelOrder } } }` + travelOrderFrag
		processOp = `mutation($input: ProcessPaymentInput!) { processPayment(input: $input) { version } }`
		failOp    = `mutation($input: FailPaymentInput!) { failPayment(input: $input) { version } }`
	)
	var runs []*orderRun
	for i := range 8 {
		customer, corr := []string{"alice", "bob"}[rnd.IntN(2)], randomUUID()
		r := &orderRun{customer: customer, byCustomer: map[int]string{1: corr}, correlation: map[int]string{}}
		line, qty := product, 1+rnd.IntN(3)
		path := rnd.IntN(5)
		if i == 0 {
			path = 4 // at least one rejected order
		} else if i == 1 {
			path = 0 // and one shipped
		}
		if path == 4 {
			line = scarce
		}
		var placed map[string]payloadOf
		asActor(srv, customer, corr).MustSucceed(t, placeOp, in("lines", []any{map[string]any{"productId": line, "quantity": qty}},
			"customerName", fmt.Sprintf("Customer %d", i), "customerEmail", fmt.Sprintf("c%d@example.com", i)), &placed)
		r.id = placed["placeOrder"].OrderID
		r.record(placed["placeOrder"])
		runs = append(runs, r)
		if path == 4 {
			r.correlation[2], r.final = corr, "REJECTED"
			settled(r.id, r.final)
			continue
		}
		o := awaiting(r.id)
		for v := 2; v <= 3; v++ {
			r.correlation[v] = corr
		}
		// A command the order's status refuses appends nothing.
		asActor(srv, customer, randomUUID()).MustFail(t, "INVALID_STATE_TRANSITION", shipOp, in("id", r.id))
		payCorr := randomUUID()
		switch path {
		case 0, 1: // paid, and shipped on path 0
			asActor(srv, "cashier", payCorr).MustSucceed(t, processOp, in("id", str(o, "paymentId")), nil)
			r.final = "PAID"
			settled(r.id, r.final)
			r.correlation[4] = payCorr
			if path == 0 {
				shipCorr := randomUUID()
				var shipped map[string]payloadOf
				asActor(srv, customer, shipCorr).MustSucceed(t, shipOp, in("id", r.id), &shipped)
				r.record(shipped["shipOrder"])
				r.byCustomer[5], r.final = shipCorr, "SHIPPED"
			}
		case 2: // the payment fails: the process cancels
			asActor(srv, "cashier", payCorr).MustSucceed(t, failOp, in("id", str(o, "paymentId"), "reason", "card declined"), nil)
			r.final = "CANCELLED"
			settled(r.id, r.final)
			r.correlation[4] = payCorr
		case 3: // the customer cancels while it awaits payment
			cancelCorr := randomUUID()
			var cancelled map[string]payloadOf
			asActor(srv, customer, cancelCorr).MustSucceed(t, cancelOp, in("id", r.id, "reason", "changed my mind"), &cancelled)
			r.record(cancelled["cancelOrder"])
			r.byCustomer[4], r.final = cancelCorr, "CANCELLED"
		}
	}

	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	for _, r := range runs {
		final := order(r.id)
		if str(final, "status") != r.final {
			t.Fatalf("order %s is %s, want %s", r.id, str(final, "status"), r.final)
		}
		// Every version as the read model showed it (orderUpdated sends
		// each once, in order, from the read model's per-version rows).
		s.subscribe(r.id, `subscription($id: ID!) { orderUpdated(id: $id) { ...TravelOrder } }`+travelOrderFrag, servertest.Vars{"id": r.id})
		var states []state
		for v := 1; v <= version(final, "version"); v++ {
			var x struct {
				OrderUpdated state `json:"orderUpdated"`
			}
			s.data(r.id, &x)
			if got := version(x.OrderUpdated, "version"); got != v {
				t.Fatalf("orderUpdated of %s sent version %d, want %d", r.id, got, v)
			}
			states = append(states, x.OrderUpdated)
		}
		if !reflect.DeepEqual(states[len(states)-1], final) {
			t.Fatalf("order %s: last orderUpdated %v, order(id) %v", r.id, states[len(states)-1], final)
		}
		// What the mutations' payloads showed is among them.
		for _, p := range r.recorded {
			if !reflect.DeepEqual(states[version(p, "version")-1], p) {
				t.Fatalf("order %s: payload %v, orderUpdated %v", r.id, p, states[version(p, "version")-1])
			}
		}
		// Provenance: the customer's commands, or the process acting on
		// the mutation that set it off.
		for _, st := range states {
			v := version(st, "version")
			lc := field(st, "lastChange").(map[string]any)
			wantActor, wantCorr := "process:fulfilment", r.correlation[v]
			if corr, ok := r.byCustomer[v]; ok {
				wantActor, wantCorr = r.customer, corr
			}
			if lc["actor"] != wantActor || (wantCorr != "" && lc["correlationId"] != wantCorr) || lc["commandId"] == nil {
				t.Fatalf("order %s version %d (%s): lastChange %v, want actor %s, correlation %q", r.id, v, str(st, "status"), lc, wantActor, wantCorr)
			}
		}
		checkPast(t, srv, pastOrderQuery, "order", r.id, states, func(s state) string { return str(s, "updatedAt") }, str(states[0], "placedAt"))
	}
	checkHistory(t, c, "order", runs[1].id, 5, []string{"OrderPlaced", "OrderShipped"})
}
