package store

import (
	"context"
	"fmt"
	"maps"
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
	out := map[string]any{"Carrier()": s.Carrier(), "Service()": s.Service(), "Merchant()": s.Merchant(), "Lane()": s.Lane(), "Locale()": s.Locale()}
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
	if labels != 5 {
		t.Fatalf("Shipment has %d label handles, view reads 5 accessors", labels)
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

// label is what the first event of a shipment says about it.
type label struct{ carrier, service, merchant, lane string }

// event builds an event of shipment tn with l's labels.
func (l label) event(tn, id string, st schemas.Status, t time.Time) schemas.Event {
	e := schemas.Event{EventID: id, TrackingNumber: tn, Carrier: l.carrier, Service: l.service, Merchant: l.merchant, Status: st, OccurredAt: t}
	if l.lane != "" {
		e.OriginCountry, e.DestinationCountry = l.lane[:2], l.lane[3:]
	}
	return e
}

// versions folds events, in order, into the states of their shipments, as
// written from Kafka partition partition: every version, and the last state
// of each shipment.
func versions(partition int, events []schemas.Event) ([]Fact, map[string]analytics.Shipment) {
	var facts []Fact
	final := map[string]analytics.Shipment{}
	for i := range events {
		e := &events[i]
		st := final[e.TrackingNumber]
		if st.Apply(e) {
			st.EarlyOut = slices.Clone(st.EarlyOut) // Apply reuses the slice
			facts = append(facts, analytics.Fact{TrackingNumber: e.TrackingNumber, Partition: partition, State: st})
		}
		final[e.TrackingNumber] = st
	}
	return facts, final
}

// retentionPartition holds the shipments of retentionSet.
const retentionPartition = 9

// retentionSet is shipments of retentionPartition around the edges of
// analytics.DefaultRetention (closed: 30 days, open: 90 days after the last
// event) at the partition's watermark, day 100 (LATEST's last event), and
// one shipment of another partition whose later events must not move that
// watermark. It returns every version, the final states, and the tracking
// numbers a restore keeps, worked out by hand from the events' days.
func retentionSet() (facts []Fact, final map[string]analytics.Shipment, kept []string) {
	l := label{"dhl", "express", "acme", "CN-US"}
	d := func(n int) time.Time { return day0.AddDate(0, 0, n) }
	events := []schemas.Event{
		// open, last event day 100: the watermark; kept
		l.event("LATEST", "l1", schemas.PickedUp, d(99)), l.event("LATEST", "l2", schemas.InTransit, d(100)),
		// delivered day 10, 90 days before the watermark: evicted
		l.event("CLOSED_OLD", "c1", schemas.PickedUp, d(5)), l.event("CLOSED_OLD", "c2", schemas.Delivered, d(10)),
		// delivered exactly 30 days before: kept
		l.event("CLOSED_EDGE", "e1", schemas.PickedUp, d(60)), l.event("CLOSED_EDGE", "e2", schemas.Delivered, d(70)),
		// delivered 30 days and 1 s before: evicted
		l.event("CLOSED_PAST_EDGE", "f1", schemas.PickedUp, d(60)), l.event("CLOSED_PAST_EDGE", "f2", schemas.Delivered, d(70).Add(-time.Second)),
		// returned 50 days before: closed, evicted
		l.event("RETURNED_OLD", "r1", schemas.PickedUp, d(1)), l.event("RETURNED_OLD", "r2", schemas.Returned, d(50)),
		// returned 20 days before: kept
		l.event("RETURNED_RECENT", "q1", schemas.PickedUp, d(60)), l.event("RETURNED_RECENT", "q2", schemas.Returned, d(80)),
		// open, last event 80 days before: kept
		l.event("OPEN_RECENT", "o1", schemas.PickedUp, d(15)), l.event("OPEN_RECENT", "o2", schemas.InTransit, d(20)),
		// open, last event exactly 90 days before: kept
		l.event("OPEN_EDGE", "g1", schemas.PickedUp, d(10)),
		// open, last event 95 days before: evicted
		l.event("OPEN_LOST", "x1", schemas.PickedUp, d(1)), l.event("OPEN_LOST", "x2", schemas.InTransit, d(5)),
		// open until a late delivered event (day 12) closed it; its last
		// event stays day 15, 85 days before: the older, open version is
		// kept by the open retention, the latest is not by the closed one
		l.event("CLOSED_LATE", "y1", schemas.PickedUp, d(15)), l.event("CLOSED_LATE", "y2", schemas.Delivered, d(12)),
		// returned on day 40 (closed, older version evicted), moving again on day 60: kept
		l.event("RETURNED_MOVING", "m1", schemas.PickedUp, d(30)), l.event("RETURNED_MOVING", "m2", schemas.Returned, d(40)),
		l.event("RETURNED_MOVING", "m3", schemas.InTransit, d(60)),
	}
	facts, final = versions(retentionPartition, events)
	other, otherFinal := versions(3, []schemas.Event{l.event("OTHERPART", "z1", schemas.InTransit, d(200))})
	facts = append(facts, other...)
	final["OTHERPART"] = otherFinal["OTHERPART"]
	slices.Reverse(facts)
	return facts, final, []string{"CLOSED_EDGE", "LATEST", "OPEN_EDGE", "OPEN_RECENT", "RETURNED_MOVING", "RETURNED_RECENT"}
}

// TestRestoreRetention checks that Restore reads back exactly the shipments
// the retention keeps at the partition's watermark, in their latest state,
// and that Lookup finds the others by tracking number.
func TestRestoreRetention(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	facts, final, kept := retentionSet()
	if err := s.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
	restore := func(r analytics.Retention) map[string]analytics.Shipment {
		t.Helper()
		got := map[string]analytics.Shipment{}
		err := s.Restore(ctx, retentionPartition, r, func(tn string, st analytics.Shipment) {
			if _, dup := got[tn]; dup {
				t.Errorf("%s restored twice", tn)
			}
			got[tn] = st
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	check := func(what string, got map[string]analytics.Shipment, want []string) {
		t.Helper()
		if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, want) {
			t.Errorf("%s: got %v, want %v", what, names, want)
		}
		for tn, st := range got {
			if d := diff(t, st, final[tn]); d != "" {
				t.Errorf("%s: %s has %s", what, tn, d)
			}
		}
	}
	check("default retention", restore(analytics.DefaultRetention), kept)
	// Open shipments kept forever: OPEN_LOST too, CLOSED_LATE still not.
	forever := append(slices.Clone(kept), "OPEN_LOST")
	slices.Sort(forever)
	check("closed retention only", restore(analytics.Retention{Closed: 30 * 24 * time.Hour}), forever)

	lookup := func(tns []string) map[string]analytics.Shipment {
		t.Helper()
		got := map[string]analytics.Shipment{}
		err := s.Lookup(ctx, retentionPartition, tns, func(tn string, st analytics.Shipment) {
			if _, dup := got[tn]; dup {
				t.Errorf("%s looked up twice", tn)
			}
			got[tn] = st
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Evicted and kept ones are found; unknown ones and those of another
	// partition are not.
	check("lookup", lookup([]string{"CLOSED_OLD", "CLOSED_LATE", "UNKNOWN", "LATEST", "OTHERPART", "it's"}), []string{"CLOSED_LATE", "CLOSED_OLD", "LATEST"})
	check("empty lookup", lookup(nil), nil)

	// More numbers than one query takes: found ones at the start of each chunk
	// and at the very end.
	many := make([]string, 2*lookupChunk+1)
	for i := range many {
		many[i] = fmt.Sprintf("UNKNOWN%07d", i)
	}
	many[0], many[lookupChunk], many[2*lookupChunk] = "CLOSED_OLD", "OPEN_LOST", "CLOSED_PAST_EDGE"
	check("chunked lookup", lookup(many), []string{"CLOSED_OLD", "CLOSED_PAST_EDGE", "OPEN_LOST"})
}
