package store

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unique"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// journey is a shipment's events, and one event that comes after the restore.
type journey struct {
	tn     string
	events []schemas.Event
	later  schemas.Event // changes the state
}

// at builds an event h hours after day0 on lane ("" for none).
func at(id string, st schemas.Status, h float64, lane string) schemas.Event {
	e := schemas.Event{EventID: id, Carrier: "dhl", Service: "express", Merchant: "acme", Status: st,
		OccurredAt: day0.Add(time.Duration(h * float64(time.Hour)))}
	if lane != "" {
		e.OriginCountry, e.DestinationCountry = lane[:2], lane[3:]
	}
	return e
}

func promising(e schemas.Event, promised time.Time) schemas.Event {
	e.PromisedAt = promised
	return e
}

// restorePartition is where journeys are written; other partitions hold
// shipments Restore must not return.
const restorePartition = 7

// journeys cover every figure of a Shipment: labels, promises (one beyond
// 2106, clamped to the largest state time), customs with early exits
// (EarlyOut), exceptions, a lane learnt late or never, ties in occurred_at.
func journeys() []journey {
	return []journey{{
		tn: "PROMISED",
		events: []schemas.Event{
			promising(at("p1", schemas.PickedUp, 0, "CN-US"), day0.Add(60*time.Hour)),
			at("p2", schemas.CustomsClearance, 20, "CN-US"),
			at("p3", schemas.CustomsReleased, 30, "CN-US"),
			at("p4", schemas.Delivered, 50, "CN-US"),
		},
		later: promising(at("p5", schemas.InTransit, 55, "CN-US"), day0.Add(40*time.Hour)),
	}, {
		tn: "EARLYOUT", // customs-ending events before customs opened
		events: []schemas.Event{
			at("e1", schemas.InfoReceived, -5, "DE-FR"),
			at("e2", schemas.PickedUp, 0, "DE-FR"),
			at("e3", schemas.CustomsReleased, 5, "DE-FR"),
			at("e4", schemas.OutForDelivery, 8, "DE-FR"),
			at("e5", schemas.CustomsHeld, 10, "DE-FR"),
			at("e6", schemas.CustomsReleased, 40, "DE-FR"),
		},
		later: at("e7", schemas.CustomsClearance, 3, "DE-FR"), // opens customs before 5: EarlyOut shrinks
	}, {
		tn: "EXCEPTIONS",
		events: []schemas.Event{
			at("x1", schemas.PickedUp, 0, "CN-GB"),
			at("x2", schemas.DeliveryFailed, 30, "CN-GB"),
			at("x3", schemas.Exception, 30, "CN-GB"), // same second as x2
			at("x4", schemas.Returned, 60, "CN-GB"),
		},
		later: at("x5", schemas.CustomsHeld, 10, "CN-GB"),
	}, {
		tn: "NOLANE", // no event carried both countries
		events: []schemas.Event{
			at("n1", schemas.InfoReceived, 0, ""),
			promising(at("n2", schemas.InfoReceived, 1, ""), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)),
		},
		later: at("n3", schemas.PickedUp, 2, "BR-US"),
	}}
}

// built is a journey folded into states: every version, and the last.
type built struct {
	journey
	versions []analytics.Fact
	final    analytics.Shipment
}

func build(js []journey) []built {
	var out []built
	for _, j := range js {
		b := built{journey: j}
		for i := range j.events {
			e := j.events[i]
			e.TrackingNumber = j.tn
			if b.final.Apply(&e) {
				st := b.final
				st.EarlyOut = slices.Clone(st.EarlyOut) // Apply reuses the slice
				b.versions = append(b.versions, analytics.Fact{TrackingNumber: j.tn, Partition: restorePartition, State: st})
			}
		}
		out = append(out, b)
	}
	return out
}

// view is every figure of a shipment: its exported fields, and its labels
// through their accessors (a restored empty label is unique.Make(""), the
// zero handle in the original). It fails t if Shipment has a field it does
// not know, so a new figure cannot escape the comparison.
func view(t *testing.T, s analytics.Shipment) map[string]any {
	t.Helper()
	out := map[string]any{"Carrier()": s.Carrier(), "Service()": s.Service(), "Merchant()": s.Merchant(), "Lane()": s.Lane()}
	labels := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			switch {
			case f.Anonymous && f.Type.Kind() == reflect.Struct:
				walk(v.Field(i))
			case f.IsExported():
				out[f.Name] = v.Field(i).Interface()
			case f.Type == reflect.TypeFor[unique.Handle[string]]():
				labels++
			default:
				t.Fatalf("Shipment has unexported field %s %s that view does not compare", f.Name, f.Type)
			}
		}
	}
	walk(reflect.ValueOf(s))
	if labels != 4 {
		t.Fatalf("Shipment has %d label handles, view reads 4 accessors", labels)
	}
	return out
}

// diff lists the figures where got and want differ.
func diff(t *testing.T, got, want analytics.Shipment) string {
	t.Helper()
	g, w := view(t, got), view(t, want)
	var out []string
	for k := range w {
		if !reflect.DeepEqual(g[k], w[k]) {
			out = append(out, fmt.Sprintf("%s = %v, want %v", k, g[k], w[k]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// checkRestored compares restored states with the journeys they came from,
// then replays every original event into them (nothing may change) and
// applies each journey's later event to both (the same change must follow).
func checkRestored(t *testing.T, got map[string]analytics.Shipment, want []built) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("restored %d shipments, want %d", len(got), len(want))
	}
	for _, b := range want {
		g, ok := got[b.tn]
		if !ok {
			t.Errorf("%s not restored", b.tn)
			continue
		}
		if d := diff(t, g, b.final); d != "" {
			t.Errorf("%s restored with %s", b.tn, d)
			continue
		}
		for i := range b.events {
			e := b.events[i]
			e.TrackingNumber = b.tn
			if g.Apply(&e) {
				t.Errorf("%s: replayed event %s changed the restored state: %s", b.tn, e.EventID, diff(t, g, b.final))
			}
		}
		if d := diff(t, g, b.final); d != "" {
			t.Errorf("%s after replay: %s", b.tn, d)
		}
		orig := b.final
		orig.EarlyOut = slices.Clone(orig.EarlyOut)
		later := b.later
		later.TrackingNumber = b.tn
		if !orig.Apply(&later) {
			t.Fatalf("%s: event %s changes nothing; the journey needs a later event that does", b.tn, later.EventID)
		}
		if !g.Apply(&later) {
			t.Errorf("%s: event %s changed the original but not the restored state", b.tn, later.EventID)
		}
		if d := diff(t, g, orig); d != "" {
			t.Errorf("%s after event %s: %s", b.tn, later.EventID, d)
		}
	}
}

// TestRestore writes every version of each journey's state, as the
// processor does, in an order that puts old versions last, and checks that
// Restore gives back the latest state in full.
func TestRestore(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	want := build(journeys())
	var facts []analytics.Fact
	for _, b := range want {
		facts = append(facts, b.versions...)
	}
	slices.Reverse(facts)
	if err := s.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFacts(ctx, facts[:3]); err != nil { // a retried part
		t.Fatal(err)
	}
	others := sampleFacts() // partitions 3 and 5
	if err := s.WriteFacts(ctx, others); err != nil {
		t.Fatal(err)
	}

	// The states exercise what the test claims to.
	var early, clamped, noLane bool
	for _, b := range want {
		early = early || len(b.final.EarlyOut) > 0
		clamped = clamped || b.final.PromisedAt == math.MaxUint32
		noLane = noLane || b.final.Lane() == ""
	}
	if !early || !clamped || !noLane {
		t.Fatalf("journeys miss a case: EarlyOut %v, clamped promise %v, no lane %v", early, clamped, noLane)
	}

	got := map[string]analytics.Shipment{}
	if err := s.Restore(ctx, restorePartition, analytics.DefaultRetention, func(tn string, st analytics.Shipment) { got[tn] = st }); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, got, want)
}
