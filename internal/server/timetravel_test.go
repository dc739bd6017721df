package server_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// TestTimeTravel runs 100 random credits and debits on one account and
// records what the read model showed after each; then every recorded state
// is read again by atVersion and by asOf (its updatedAt), and must be the
// same. Before the account existed is NOT_FOUND, a version beyond its last
// or both arguments BAD_USER_INPUT, and another organization sees nothing.
func TestTimeTravel(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	opened := open(t, c, servertest.Vars{"owner": "Traveller " + randomSuffix(), "currency": "EUR", "initialBalance": "50.00"})
	if !opened.UpToDate || opened.Account == nil {
		t.Fatalf("open: %+v", opened)
	}
	id := opened.AccountID
	seen := []account{*opened.Account}
	rnd := rand.New(rand.NewPCG(42, 1))
	balance := 5000
	for range 100 {
		cents := 1 + rnd.IntN(900)
		var p payload
		if rnd.IntN(3) == 0 && cents <= balance {
			p = debit(t, c, servertest.Vars{"id": id, "amount": fmt.Sprintf("%d.%02d", cents/100, cents%100)})
			balance -= cents
		} else {
			p = credit(t, c, servertest.Vars{"id": id, "amount": fmt.Sprintf("%d.%02d", cents/100, cents%100)})
			balance += cents
		}
		if !p.UpToDate || p.Account == nil {
			t.Fatalf("command answered before the projection: %+v", p)
		}
		seen = append(seen, *p.Account)
	}

	const past = `query($id: ID!, $asOf: Time, $atVersion: Int) { account(id: $id, asOf: $asOf, atVersion: $atVersion) { ...AccountFields } }` + accountFields
	read := func(vars servertest.Vars) account {
		t.Helper()
		var out struct {
			Account account `json:"account"`
		}
		c.MustSucceed(t, past, vars, &out)
		return out.Account
	}
	for _, want := range seen {
		if got := read(servertest.Vars{"id": id, "atVersion": want.Version}); !reflect.DeepEqual(got, want) {
			t.Fatalf("atVersion %d = %+v, the read model showed %+v", want.Version, got, want)
		}
		if got := read(servertest.Vars{"id": id, "asOf": want.UpdatedAt}); !reflect.DeepEqual(got, want) {
			t.Fatalf("asOf %s = %+v, the read model showed %+v", want.UpdatedAt, got, want)
		}
	}
	openedAt, err := time.Parse(time.RFC3339Nano, seen[0].OpenedAt)
	if err != nil {
		t.Fatal(err)
	}
	before := openedAt.Add(-time.Millisecond).Format(time.RFC3339Nano)
	c.MustFail(t, "NOT_FOUND", past, servertest.Vars{"id": id, "asOf": before})
	c.MustFail(t, "BAD_USER_INPUT", past, servertest.Vars{"id": id, "atVersion": len(seen) + 1})
	c.MustFail(t, "BAD_USER_INPUT", past, servertest.Vars{"id": id, "atVersion": 0})
	c.MustFail(t, "BAD_USER_INPUT", past, servertest.Vars{"id": id, "atVersion": 2, "asOf": seen[1].UpdatedAt})
	srv.ClientAs("gus", "globex").MustFail(t, "NOT_FOUND", past, servertest.Vars{"id": id, "atVersion": 1})
}
