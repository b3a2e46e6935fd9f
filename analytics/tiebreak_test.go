package analytics

import (
	"testing"

	"github.com/shiplens/shiplens/schemas"
)

// TestTiesFollowTaxonomy checks the README's order of events that share an
// occurred_at: the status taxonomy first, the event id only after it, for
// the labels and the promise as for the latest status. The ids are chosen
// so that their hashes order the events the other way round: ordering by
// the id hash alone (as labels and promises once did) picks the wrong event.
func TestTiesFollowTaxonomy(t *testing.T) {
	if idHash("info") <= idHash("pick") || idHash("x1") <= idHash("x2") {
		t.Fatal("the ids no longer hash in the order this test needs")
	}
	// A pre-advice and the pickup scanned in the same second, from
	// different feeds: the info_received comes first.
	info := ev("info", schemas.InfoReceived, 0)
	info.Carrier, info.Service = "cainiao", "standard"
	pick := ev("pick", schemas.PickedUp, 0)
	pick.Carrier, pick.DestinationCountry = "yunexpress", "GB"
	// A hold and its release in the same second, each with a promise: the
	// release is the later event, so its (new) promise is in force.
	held := withPromise(ev("x1", schemas.CustomsHeld, 40), 50)
	released := withPromise(ev("x2", schemas.CustomsReleased, 40), 80)
	delivered := ev("d", schemas.Delivered, 60)
	events := []schemas.Event{info, pick, held, released, delivered}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {1, 0, 3, 2, 4}, {3, 4, 1, 2, 0}} {
		var s Shipment
		for _, i := range order {
			s.Apply(&events[i])
		}
		if s.Carrier() != "cainiao" || s.Service() != "standard" || s.Lane() != "CN-US" {
			t.Errorf("order %v: labels %s %s %s, want those of info_received: cainiao standard CN-US", order, s.Carrier(), s.Service(), s.Lane())
		}
		if want := unix(t0.Add(80 * 3600e9)); s.PromisedAt != want {
			t.Errorf("order %v: promise %d, want %d (the customs_released one)", order, s.PromisedAt, want)
		}
		if on, ok := s.OnTime(); !ok || !on {
			t.Errorf("order %v: on time %v (ok %v), want on time against the release's promise", order, on, ok)
		}
		if h, ok := s.CustomsDwellHours(); !ok || h != 0 {
			t.Errorf("order %v: customs dwell %v (ok %v), want 0", order, h, ok)
		}
		if h, ok := s.TransitHours(); !ok || h != 60 {
			t.Errorf("order %v: transit %v (ok %v), want 60", order, h, ok)
		}
	}
}
