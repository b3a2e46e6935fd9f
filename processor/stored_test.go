package processor

import (
	"fmt"
	"testing"
)

// TestStoredFilter: every number added, at restore or since, is reported
// as possibly stored, across the filter's growth; numbers never added are
// mostly reported absent, under the 2% that the filters' rates sum to.
func TestStoredFilter(t *testing.T) {
	restored := make([]string, 5000)
	for i := range restored {
		restored[i] = fmt.Sprintf("LX%09dCN", i)
	}
	s := newStored(restored)
	const added = 200_000 // past the first filter's room: several grow
	for i := range added {
		if tn := fmt.Sprintf("UA%09dCN", i); !s.mayHold(tn) {
			s.add(tn)
		}
	}
	if len(s.filters) < 3 {
		t.Fatalf("%d filters after %d numbers; want the filter to have grown", len(s.filters), added)
	}
	for _, tn := range restored {
		if !s.mayHold(tn) {
			t.Fatalf("restored %s reported absent", tn)
		}
	}
	for i := range added {
		if tn := fmt.Sprintf("UA%09dCN", i); !s.mayHold(tn) {
			t.Fatalf("added %s reported absent", tn)
		}
	}
	const unseen = 100_000
	fp := 0
	for i := range unseen {
		if s.mayHold(fmt.Sprintf("EE%09dDE", i)) {
			fp++
		}
	}
	if rate := float64(fp) / unseen; rate > 0.02 {
		t.Fatalf("%.2f%% of never-added numbers reported possibly stored; want at most 2%%", 100*rate)
	}
}
