package eta_test

import (
	"testing"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/schemas"
)

// TestMilestoneNames: every milestone's name parses back to it, and the
// names are the status codes with "_destination" only where a status
// happens on both sides of the border.
func TestMilestoneNames(t *testing.T) {
	for _, st := range schemas.Statuses() {
		for _, dest := range []bool{false, true} {
			m := eta.NewMilestone(st, dest)
			back, err := eta.ParseMilestone(m.String())
			if err != nil || back != m {
				t.Errorf("%s (dest %v) = %q parses to %v, %v", st, dest, m, back, err)
			}
			name := st.String()
			switch st {
			case schemas.InfoReceived, schemas.PickedUp, schemas.InTransit, schemas.Returned, schemas.Exception:
				if dest {
					name += "_destination"
				}
			}
			if m.String() != name {
				t.Errorf("%s (dest %v) is named %q, want %q", st, dest, m, name)
			}
		}
	}
	for _, bad := range []string{"", "arrived", "delivered_destination", "teleported"} {
		if _, err := eta.ParseMilestone(bad); err == nil {
			t.Errorf("ParseMilestone(%q) accepted", bad)
		}
	}
	if eta.NewMilestone(schemas.InTransit, false).String() != "in_transit" || eta.NewMilestone(schemas.InTransit, true).String() != "in_transit_destination" {
		t.Error("in_transit milestones misnamed")
	}
	if eta.NewMilestone(schemas.CustomsClearance, false).String() != "customs_clearance" {
		t.Error("a customs status is always in the destination")
	}
}
