package commandtest

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
)

// SnapshotPlusTailEqualsFold checks, for every prefix of events, that a
// snapshot of the state folded from the prefix (a JSON round trip, as the
// snapshot table stores it) with the rest of the events folded onto it
// equals the fold of all events. It is the property a snapshot policy
// (aggregate.Type.Snapshots) relies on; run it on many random histories.
func SnapshotPlusTailEqualsFold[S any](t testing.TB, typ aggregate.Type[S], events []aggregate.Event) {
	t.Helper()
	want := typ.Fold(events...)
	for k := range len(events) + 1 {
		data, err := json.Marshal(typ.Fold(events[:k]...))
		if err != nil {
			t.Fatalf("snapshot at %d does not encode: %v", k, err)
		}
		var state S
		if err := json.Unmarshal(data, &state); err != nil {
			t.Fatalf("snapshot at %d does not decode: %v", k, err)
		}
		for _, e := range events[k:] {
			state = typ.Evolve(state, e)
		}
		if !reflect.DeepEqual(state, want) {
			t.Fatalf("snapshot at %d of %d events + tail = %#v, full fold %#v", k, len(events), state, want)
		}
	}
}
