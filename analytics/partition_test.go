package analytics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

const dayDur = 24 * time.Hour

// pev builds an event of shipment tn, hours after t0.
func pev(tn, id string, st schemas.Status, hours float64) schemas.Event {
	e := ev(tn+"/"+id, st, hours)
	e.TrackingNumber = tn
	return e
}

func apply(tb testing.TB, p *Partition, e schemas.Event, accounted bool, wantChanged, wantCreated bool) {
	tb.Helper()
	changed, created := p.Apply(&e, accounted)
	if changed != wantChanged || created != wantCreated {
		tb.Fatalf("Apply(%s %v) = changed %v, created %v; want %v, %v", e.EventID, e.Status, changed, created, wantChanged, wantCreated)
	}
}

func sortedMisses(p *Partition) []string {
	m := slices.Clone(p.Misses())
	sort.Strings(m)
	return m
}

// factsByTN indexes facts, failing on a tracking number written twice or a
// wrong partition.
func factsByTN(tb testing.TB, facts []Fact, partition int) map[string]Fact {
	tb.Helper()
	out := make(map[string]Fact)
	for _, f := range facts {
		if _, dup := out[f.TrackingNumber]; dup {
			tb.Errorf("two facts for %s", f.TrackingNumber)
		}
		if f.Partition != partition {
			tb.Errorf("fact for %s carries partition %d, want %d", f.TrackingNumber, f.Partition, partition)
		}
		out[f.TrackingNumber] = f
	}
	return out
}

func TestPartitionApplyAndMisses(t *testing.T) {
	p := NewPartition()
	if p.Len() != 0 || p.Changed() != 0 || p.Watermark() != 0 || p.Misses() != nil {
		t.Fatal("a new partition is not empty")
	}
	stored := fold([]schemas.Event{pev("C", "1", schemas.PickedUp, 0)})
	p.Restore("C", stored)

	apply(t, p, pev("A", "1", schemas.PickedUp, 0), false, true, true)
	apply(t, p, pev("A", "1", schemas.PickedUp, 0), false, false, false) // duplicate
	apply(t, p, pev("A", "2", schemas.InTransit, 5), false, true, false)
	apply(t, p, pev("B", "1", schemas.InfoReceived, 1), false, true, true)
	apply(t, p, pev("C", "2", schemas.InTransit, 3), false, true, false) // restored: no miss
	apply(t, p, pev("D", "1", schemas.PickedUp, 2), true, true, true)    // accounted: restored by the caller, no miss
	apply(t, p, pev("C", "1", schemas.PickedUp, 0), false, false, false) // what C held already

	if p.Len() != 4 || p.Changed() != 4 {
		t.Fatalf("Len %d, Changed %d; want 4, 4", p.Len(), p.Changed())
	}
	for _, tn := range []string{"A", "B", "C", "D"} {
		if !p.Has(tn) {
			t.Errorf("Has(%s) = false", tn)
		}
	}
	if p.Has("E") {
		t.Error("Has(E) = true")
	}
	if got := sortedMisses(p); !slices.Equal(got, []string{"A", "B"}) {
		t.Fatalf("Misses = %v, want [A B]", got)
	}
	var asked []string
	p.Resolve(func(tn string) (Shipment, bool) { asked = append(asked, tn); return Shipment{}, false })
	sort.Strings(asked)
	if !slices.Equal(asked, []string{"A", "B"}) {
		t.Fatalf("Resolve looked up %v, want [A B]", asked)
	}
	if m := p.Misses(); len(m) != 0 {
		t.Fatalf("Misses after Resolve = %v", m)
	}
	// Nothing in storage: the states are those of the events alone.
	facts, _ := p.Pending(0)
	byTN := factsByTN(t, facts, 0)
	wantA := fold([]schemas.Event{pev("A", "1", schemas.PickedUp, 0), pev("A", "2", schemas.InTransit, 5)})
	stA := byTN["A"].State
	checkSame(t, &stA, &wantA)
	p.Written()

	// A resolved shipment that changes again is no miss.
	apply(t, p, pev("A", "3", schemas.Delivered, 50), false, true, false)
	if m := p.Misses(); len(m) != 0 {
		t.Fatalf("Misses = %v after a change of a resolved shipment", m)
	}
	// A shipment created from events after a write is one.
	apply(t, p, pev("E", "1", schemas.Exception, 60), false, true, true)
	if got := p.Misses(); !slices.Equal(got, []string{"E"}) {
		t.Fatalf("Misses = %v, want [E]", got)
	}
}

// TestPartitionResolveLateException: a shipment delivered long ago and
// evicted gets a late exception. Storage holds its state; after Resolve
// the change of the aggregates is the exception alone, on its day.
func TestPartitionResolveLateException(t *testing.T) {
	old := []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 120),
		ev("b", schemas.CustomsClearance, 50),
		ev("c", schemas.CustomsReleased, 62),
		ev("d", schemas.Delivered, 100),
	}
	stored := fold(old)
	late := ev("x", schemas.Exception, 200) // 09-09 16:00
	p := NewPartition()
	apply(t, p, late, false, true, true)
	if got := p.Misses(); !slices.Equal(got, []string{"LX1CN"}) {
		t.Fatalf("Misses = %v, want [LX1CN]", got)
	}
	p.Resolve(func(tn string) (Shipment, bool) {
		if tn != "LX1CN" {
			t.Errorf("looked up %s", tn)
		}
		return stored, true
	})
	facts, days := p.Pending(5)
	if len(facts) != 1 || facts[0].TrackingNumber != "LX1CN" || facts[0].Partition != 5 {
		t.Fatalf("facts %+v", facts)
	}
	want := fold(append(slices.Clone(old), late))
	st := facts[0].State
	checkSame(t, &st, &want)
	checkRef(t, &st, ref(t, append(slices.Clone(old), late)))
	if st.Version <= stored.Version {
		t.Errorf("Version %d, want > stored %d", st.Version, stored.Version)
	}
	checkCells(t, days, map[DayKey]wantCell{
		key(9): {exceptions: 1, byType: [4]int64{0, 0, 0, 1}},
	})
	if w := uint32(t0.Add(200 * time.Hour).Unix()); p.Watermark() != w {
		t.Errorf("Watermark %d, want %d", p.Watermark(), w)
	}
}

// TestPartitionResolveMovesDay: the late event is an earlier delivered
// scan: the stored delivery day loses the shipment, the new one gains it.
func TestPartitionResolveMovesDay(t *testing.T) {
	old := []schemas.Event{withPromise(ev("a", schemas.PickedUp, 0), 90), ev("d1", schemas.Delivered, 100)}
	stored := fold(old)
	p := NewPartition()
	apply(t, p, ev("d0", schemas.Delivered, 76), false, true, true)
	p.Resolve(func(string) (Shipment, bool) { return stored, true })
	facts, days := p.Pending(1)
	checkCells(t, days, map[DayKey]wantCell{
		key(5): {delivered: -1, withPromise: -1, transit: map[int16]int64{b100: -1}},
		key(4): {delivered: 1, withPromise: 1, onTime: 1, transit: map[int16]int64{b76: 1}},
	})
	want := fold(append(slices.Clone(old), ev("d0", schemas.Delivered, 76)))
	st := facts[0].State
	checkSame(t, &st, &want)
	// The stored watermark counts: storage's last event is later than the
	// late one.
	if w := uint32(t0.Add(100 * time.Hour).Unix()); p.Watermark() != w {
		t.Errorf("Watermark %d, want %d (the stored LastAt)", p.Watermark(), w)
	}
}

// TestPartitionResolveDuplicate: a replayed event that storage already
// holds changes nothing in the aggregates.
func TestPartitionResolveDuplicate(t *testing.T) {
	old := []schemas.Event{ev("a", schemas.PickedUp, 0), ev("x", schemas.Exception, 20), ev("d", schemas.Delivered, 100)}
	stored := fold(old)
	p := NewPartition()
	apply(t, p, old[1], false, true, true)
	p.Resolve(func(string) (Shipment, bool) { return stored, true })
	facts, days := p.Pending(0)
	checkCells(t, days, nil)
	if len(facts) == 1 {
		st := facts[0].State
		checkSame(t, &st, &stored)
	}
}

// TestPartitionAccounted: changes from replayed events whose effect the
// aggregates already hold are written as facts only.
func TestPartitionAccounted(t *testing.T) {
	p := NewPartition()
	xs := []schemas.Event{pev("X", "1", schemas.PickedUp, 0), pev("X", "2", schemas.Delivered, 100)}
	for i, e := range xs {
		apply(t, p, e, true, true, i == 0)
	}
	storedY := fold([]schemas.Event{pev("Y", "1", schemas.PickedUp, 0)})
	p.Restore("Y", storedY)
	apply(t, p, pev("Y", "2", schemas.Delivered, 30), true, true, false)
	if m := p.Misses(); len(m) != 0 {
		t.Fatalf("Misses = %v for accounted events", m)
	}
	facts, days := p.Pending(2)
	byTN := factsByTN(t, facts, 2)
	if len(byTN) != 2 {
		t.Fatalf("facts for %d shipments, want 2 (X, Y)", len(byTN))
	}
	wantX := fold(xs)
	stX := byTN["X"].State
	checkSame(t, &stX, &wantX)
	wantY := fold([]schemas.Event{pev("Y", "1", schemas.PickedUp, 0), pev("Y", "2", schemas.Delivered, 30)})
	stY := byTN["Y"].State
	checkSame(t, &stY, &wantY)
	checkCells(t, days, nil)
	if days.Len() != 0 {
		t.Errorf("accounted changes created %d cells", days.Len())
	}
	p.Written()

	// A later event that is not accounted changes the aggregates from the
	// state the accounted events left.
	apply(t, p, pev("X", "3", schemas.Exception, 120), false, true, false)
	_, days = p.Pending(2)
	x := key(6)
	checkCells(t, days, map[DayKey]wantCell{x: {exceptions: 1, byType: [4]int64{0, 0, 0, 1}}})
}

// TestPartitionWritten: Written clears the pending changes; the next
// change counts from the state written.
func TestPartitionWritten(t *testing.T) {
	p := NewPartition()
	apply(t, p, ev("a", schemas.PickedUp, 0), false, true, true)
	apply(t, p, ev("d", schemas.Delivered, 100), false, true, false)
	p.Resolve(func(string) (Shipment, bool) { return Shipment{}, false })
	facts, days := p.Pending(0)
	if len(facts) != 1 {
		t.Fatalf("%d facts, want 1", len(facts))
	}
	checkCells(t, days, map[DayKey]wantCell{key(5): {delivered: 1, transit: map[int16]int64{b100: 1}}})
	// Pending clears nothing.
	facts2, days2 := p.Pending(0)
	if len(facts2) != 1 {
		t.Fatalf("second Pending: %d facts, want 1", len(facts2))
	}
	checkCells(t, days2, map[DayKey]wantCell{key(5): {delivered: 1, transit: map[int16]int64{b100: 1}}})
	p.Written()
	if p.Changed() != 0 || p.Len() != 1 {
		t.Fatalf("after Written: Changed %d, Len %d; want 0, 1", p.Changed(), p.Len())
	}
	facts, days = p.Pending(0)
	if len(facts) != 0 || days.Len() != 0 {
		t.Fatalf("after Written: %d facts, %d cells", len(facts), days.Len())
	}
	p.Written() // twice is harmless
	apply(t, p, ev("d", schemas.Delivered, 100), false, false, false)
	if p.Changed() != 0 {
		t.Fatal("a duplicate made a pending change")
	}
	apply(t, p, ev("x", schemas.Exception, 200), false, true, false)
	facts, days = p.Pending(0)
	if len(facts) != 1 || p.Changed() != 1 {
		t.Fatalf("%d facts, Changed %d; want 1, 1", len(facts), p.Changed())
	}
	checkCells(t, days, map[DayKey]wantCell{key(9): {exceptions: 1, byType: [4]int64{0, 0, 0, 1}}})
}

// TestPartitionEvict checks the retention rules at watermark W, in event
// time, with the expectations written by hand.
func TestPartitionEvict(t *testing.T) {
	const W = 100 * 24.0 // hours after t0
	d := func(days float64) float64 { return W - days*24 }
	cases := []struct {
		tn     string
		events []schemas.Event
		keep   bool
	}{
		{"closed31", []schemas.Event{pev("closed31", "p", schemas.PickedUp, d(35)), pev("closed31", "d", schemas.Delivered, d(31))}, false},
		{"closed30", []schemas.Event{pev("closed30", "p", schemas.PickedUp, d(35)), pev("closed30", "d", schemas.Delivered, d(30))}, true},
		{"closed29", []schemas.Event{pev("closed29", "p", schemas.PickedUp, d(35)), pev("closed29", "d", schemas.Delivered, d(29))}, true},
		{"open89", []schemas.Event{pev("open89", "p", schemas.PickedUp, d(95)), pev("open89", "t", schemas.InTransit, d(89))}, true},
		{"open91", []schemas.Event{pev("open91", "p", schemas.PickedUp, d(95)), pev("open91", "t", schemas.InTransit, d(91))}, false},
		{"open31", []schemas.Event{pev("open31", "t", schemas.CustomsHeld, d(31))}, true},
		{"returned31", []schemas.Event{pev("returned31", "f", schemas.DeliveryFailed, d(40)), pev("returned31", "r", schemas.Returned, d(31))}, false},
		{"reopened31", []schemas.Event{pev("reopened31", "r", schemas.Returned, d(32)), pev("reopened31", "t", schemas.InTransit, d(31))}, true},
		{"deliveredThenException", []schemas.Event{pev("deliveredThenException", "d", schemas.Delivered, d(40)), pev("deliveredThenException", "x", schemas.Exception, d(31))}, false},
		{"deliveredThenLate", []schemas.Event{pev("deliveredThenLate", "d", schemas.Delivered, d(40)), pev("deliveredThenLate", "x", schemas.Exception, d(29))}, true},
		{"w", []schemas.Event{pev("w", "t", schemas.InTransit, W)}, true},
	}
	p := NewPartition()
	for _, c := range cases {
		for _, e := range c.events {
			p.Apply(&e, false)
		}
	}
	if w := uint32(t0.Add(W * time.Hour).Unix()); p.Watermark() != w {
		t.Fatalf("Watermark %d, want %d", p.Watermark(), w)
	}
	r := Retention{Closed: 30 * dayDur, Lost: 90 * dayDur}
	// Changed and unwritten: never evicted, however old.
	if n := p.Evict(r); n != 0 {
		t.Fatalf("Evict removed %d pending shipments", n)
	}
	p.Resolve(func(string) (Shipment, bool) { return Shipment{}, false })
	p.Written()
	// An old delivered shipment that changes again stays until written.
	pending := pev("pending", "d", schemas.Delivered, d(60))
	p.Apply(&pending, false)

	wantEvicted := 0
	for _, c := range cases {
		s := fold(c.events)
		if r.Keep(&s, p.Watermark()) != c.keep {
			t.Errorf("Keep(%s) = %v, want %v", c.tn, !c.keep, c.keep)
		}
		if !c.keep {
			wantEvicted++
		}
	}
	if n := p.Evict(r); n != wantEvicted {
		t.Errorf("Evict removed %d, want %d", n, wantEvicted)
	}
	for _, c := range cases {
		if p.Has(c.tn) != c.keep {
			t.Errorf("after Evict, Has(%s) = %v, want %v", c.tn, p.Has(c.tn), c.keep)
		}
	}
	if !p.Has("pending") {
		t.Error("the pending shipment was evicted")
	}
	if n := p.Evict(r); n != 0 {
		t.Errorf("a second Evict removed %d", n)
	}
	p.Resolve(func(string) (Shipment, bool) { return Shipment{}, false })
	p.Written()
	if n := p.Evict(r); n != 1 || p.Has("pending") {
		t.Errorf("once written, the old shipment was not evicted (%d removed)", n)
	}

	// Lost 0 keeps open shipments forever; closed ones still leave.
	forever := Retention{Closed: 30 * dayDur}
	p = NewPartition()
	for _, c := range cases {
		for _, e := range c.events {
			p.Apply(&e, false)
		}
	}
	p.Written()
	p.Evict(forever)
	for _, c := range cases {
		s := fold(c.events)
		if want := s.Closed() == false || c.keep; p.Has(c.tn) != want {
			t.Errorf("Lost 0: Has(%s) = %v, want %v", c.tn, p.Has(c.tn), want)
		}
	}
}

// TestPartitionKeepAgreesWithEvict: on random shipments, what Evict removes
// is exactly what Keep rejects, among the unchanged ones.
func TestPartitionKeepAgreesWithEvict(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 41))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for iter := 0; iter < 20; iter++ {
		p := NewPartition()
		states := make(map[string][]schemas.Event)
		for i := 0; i < 100; i++ {
			tn := fmt.Sprintf("K%d", i)
			events := randomEvents(r, tn, base.Add(time.Duration(r.IntN(120))*dayDur), 1+r.IntN(6))
			states[tn] = events
			for j := range events {
				p.Apply(&events[j], false)
			}
		}
		p.Written()
		pend := make(map[string]bool)
		for i := 0; i < 10; i++ {
			tn := fmt.Sprintf("K%d", r.IntN(100))
			e := randomEvents(r, tn+"late", base, 1)[0]
			e.TrackingNumber = tn
			if changed, _ := p.Apply(&e, false); changed {
				pend[tn] = true
			}
			states[tn] = append(states[tn], e)
		}
		ret := Retention{Closed: time.Duration(1+r.IntN(30)) * dayDur, Lost: time.Duration(r.IntN(60)) * dayDur}
		w := p.Watermark()
		p.Evict(ret)
		for tn, events := range states {
			s := fold(events)
			if want := pend[tn] || ret.Keep(&s, w); p.Has(tn) != want {
				t.Fatalf("iteration %d: Has(%s) = %v, want %v (pending %v)", iter, tn, p.Has(tn), want, pend[tn])
			}
		}
	}
}

// TestPartitionWatermark: the latest occurred_at applied, whatever the
// order, and the last event of restored states.
func TestPartitionWatermark(t *testing.T) {
	p := NewPartition()
	hours := []float64{50, 10, 80, 79, 5, 80}
	for i, h := range hours {
		e := pev(fmt.Sprint("W", i%3), fmt.Sprint(i), schemas.InTransit, h)
		p.Apply(&e, false)
		mx := slices.Max(hours[:i+1])
		if w := uint32(t0.Add(time.Duration(mx * float64(time.Hour))).Unix()); p.Watermark() != w {
			t.Fatalf("after %v: Watermark %d, want %d", hours[:i+1], p.Watermark(), w)
		}
	}
	// A duplicate of the latest event keeps it.
	e := pev("W2", "2", schemas.InTransit, 80)
	p.Apply(&e, false)
	if w := uint32(t0.Add(80 * time.Hour).Unix()); p.Watermark() != w {
		t.Fatalf("Watermark %d, want %d", p.Watermark(), w)
	}
	q := NewPartition()
	q.Restore("R", fold([]schemas.Event{pev("R", "1", schemas.PickedUp, 0), pev("R", "2", schemas.InTransit, 300)}))
	q.Restore("S", fold([]schemas.Event{pev("S", "1", schemas.PickedUp, 100)}))
	if w := uint32(t0.Add(300 * time.Hour).Unix()); q.Watermark() != w {
		t.Fatalf("after Restore: Watermark %d, want %d", q.Watermark(), w)
	}
}

// TestPartitionRestore: a restored state is taken to be in the aggregates
// and in storage: no pending change, no miss; a later event changes the
// aggregates by the difference only.
func TestPartitionRestore(t *testing.T) {
	old := []schemas.Event{withPromise(ev("a", schemas.PickedUp, 0), 90), ev("d1", schemas.Delivered, 100)}
	stored := fold(old)
	p := NewPartition()
	p.Restore("LX1CN", stored)
	if !p.Has("LX1CN") || p.Len() != 1 || p.Changed() != 0 || p.Misses() != nil {
		t.Fatalf("after Restore: Has %v Len %d Changed %d Misses %v", p.Has("LX1CN"), p.Len(), p.Changed(), p.Misses())
	}
	facts, days := p.Pending(0)
	if len(facts) != 0 || days.Len() != 0 {
		t.Fatalf("Restore made a pending change: %d facts, %d cells", len(facts), days.Len())
	}
	// Restoring again replaces the state, still with no change.
	p.Restore("LX1CN", stored)
	if p.Len() != 1 || p.Changed() != 0 {
		t.Fatalf("second Restore: Len %d Changed %d", p.Len(), p.Changed())
	}
	apply(t, p, ev("d0", schemas.Delivered, 76), false, true, false)
	if m := p.Misses(); len(m) != 0 {
		t.Fatalf("Misses = %v for a restored shipment", m)
	}
	facts, days = p.Pending(4)
	if len(facts) != 1 || facts[0].Partition != 4 || facts[0].TrackingNumber != "LX1CN" {
		t.Fatalf("facts %+v", facts)
	}
	checkCells(t, days, map[DayKey]wantCell{
		key(5): {delivered: -1, withPromise: -1, transit: map[int16]int64{b100: -1}},
		key(4): {delivered: 1, withPromise: 1, onTime: 1, transit: map[int16]int64{b76: 1}},
	})
	// The restored state itself was not altered through the partition.
	again := fold(old)
	checkSame(t, &stored, &again)
}

// TestPartitionPendingFacts: one fact per changed shipment, carrying the
// partition given and the shipment's current state.
func TestPartitionPendingFacts(t *testing.T) {
	p := NewPartition()
	all := make(map[string][]schemas.Event)
	for i := 0; i < 10; i++ {
		tn := fmt.Sprint("F", i)
		for j := 0; j <= i%3; j++ {
			e := pev(tn, fmt.Sprint(j), schemas.Statuses()[j+1], float64(10*j))
			all[tn] = append(all[tn], e)
			p.Apply(&e, false)
		}
	}
	p.Resolve(func(string) (Shipment, bool) { return Shipment{}, false })
	facts, _ := p.Pending(11)
	byTN := factsByTN(t, facts, 11)
	if len(byTN) != 10 {
		t.Fatalf("%d facts, want 10", len(byTN))
	}
	for tn, events := range all {
		want := fold(events)
		st := byTN[tn].State
		checkSame(t, &st, &want)
	}
}

// --- the end-to-end property ---

// e2eArrival is one message of the simulated topic.
type e2eArrival struct {
	e   schemas.Event
	at  int64 // arrival order
	seq int
}

// journey generates the events of one cross-border shipment and when each
// arrives: mostly in order and soon, some late by days, some twice, and
// for some delivered shipments a delivered scan of an earlier day that
// turns up long after the first.
func journey(r *rand.Rand, tn string, start time.Time) []e2eArrival {
	carrier := []string{"cainiao", "yunexpress", "4px"}[r.IntN(3)]
	service := []string{"economy", "standard"}[r.IntN(2)]
	merchant := []string{"m1", "m2", ""}[r.IntN(3)]
	dest := []string{"US", "GB", "DE"}[r.IntN(3)]
	var out []e2eArrival
	n := 0
	at := start
	soon := func() time.Duration { return time.Duration(r.IntN(4*3600)) * time.Second }
	late := func() time.Duration { return 2*dayDur + time.Duration(r.IntN(18*24*3600))*time.Second }
	emit := func(e schemas.Event, lateness time.Duration) {
		out = append(out, e2eArrival{e: e, at: e.OccurredAt.Add(lateness).Unix(), seq: r.Int()})
		if r.IntN(12) == 0 { // the same event again, some time later
			out = append(out, e2eArrival{e: e, at: e.OccurredAt.Add(lateness + time.Duration(r.IntN(10*24*3600))*time.Second).Unix(), seq: r.Int()})
		}
	}
	mk := func(st schemas.Status, t time.Time) schemas.Event {
		n++
		return schemas.Event{EventID: fmt.Sprintf("%s-%d", tn, n), TrackingNumber: tn, Carrier: carrier, Service: service,
			Merchant: merchant, OriginCountry: "CN", DestinationCountry: dest, Status: st, OccurredAt: t}
	}
	step := func(st schemas.Status) schemas.Event {
		if r.IntN(8) != 0 { // otherwise the same second as the previous scan
			at = at.Add(time.Duration(1+r.IntN(40*3600)) * time.Second)
		}
		e := mk(st, at)
		if r.IntN(15) == 0 {
			e.Service = ""
		}
		if r.IntN(15) == 0 {
			e.DestinationCountry = ""
		}
		return e
	}
	send := func(e schemas.Event) {
		l := soon()
		if r.IntN(12) == 0 {
			l = late()
		}
		emit(e, l)
	}
	if r.IntN(2) == 0 {
		e := step(schemas.InfoReceived)
		if r.IntN(3) == 0 {
			e.OriginCountry, e.DestinationCountry = "", ""
		}
		if r.IntN(4) == 0 {
			e.Service = "express" // the earliest event names the service
		}
		send(e)
	}
	e := step(schemas.PickedUp)
	if r.IntN(5) < 3 {
		e.PromisedAt = start.Add(time.Duration(4*24+r.IntN(10*24)) * time.Hour)
	}
	send(e)
	e = step(schemas.InTransit)
	if r.IntN(5) == 0 {
		e.PromisedAt = start.Add(time.Duration(4*24+r.IntN(10*24)) * time.Hour) // a revised promise
	}
	send(e)
	fate := r.IntN(10)
	if fate == 0 { // lost in transit
		if r.IntN(2) == 0 {
			send(step(schemas.Exception))
		}
		return out
	}
	send(step(schemas.ArrivedDestination))
	if r.IntN(3) > 0 {
		send(step(schemas.CustomsClearance))
		if r.IntN(4) == 0 {
			send(step(schemas.CustomsHeld))
		}
		if r.IntN(5) > 0 {
			send(step(schemas.CustomsReleased))
		}
	}
	send(step(schemas.OutForDelivery))
	if fate == 1 { // returned, sometimes moving again afterwards
		send(step(schemas.DeliveryFailed))
		send(step(schemas.Returned))
		if r.IntN(3) == 0 {
			send(step(schemas.InTransit))
		}
		return out
	}
	if r.IntN(5) == 0 {
		send(step(schemas.DeliveryFailed))
		send(step(schemas.OutForDelivery))
	}
	delivered := step(schemas.Delivered)
	send(delivered)
	if r.IntN(3) == 0 {
		// A delivered scan one to three days earlier, from another feed,
		// arriving days after the first.
		early := mk(schemas.Delivered, delivered.OccurredAt.Add(-time.Duration(26*3600+r.IntN(46*3600))*time.Second))
		emit(early, delivered.OccurredAt.Sub(early.OccurredAt)+3*dayDur+time.Duration(r.IntN(12*24*3600))*time.Second)
	}
	if r.IntN(6) == 0 {
		x := mk([]schemas.Status{schemas.Exception, schemas.Returned, schemas.DeliveryFailed}[r.IntN(3)],
			delivered.OccurredAt.Add(time.Duration(1+r.IntN(5*24*3600))*time.Second))
		send(x)
	}
	// A few scans of any status at any time of the journey.
	for k := r.IntN(3); k > 0; k-- {
		statuses := schemas.Statuses()
		x := mk(statuses[r.IntN(len(statuses))], start.Add(time.Duration(r.IntN(int(at.Sub(start)/time.Second)+1))*time.Second))
		send(x)
	}
	return out
}

// refCells returns the daily aggregates the definitions give for every
// shipment's complete set of events, computed without Contribution or Days.
func refCells(tb testing.TB, byTN map[string][]schemas.Event) map[DayKey]wantCell {
	tb.Helper()
	cells := make(map[DayKey]*wantCell)
	for _, events := range byTN {
		f := ref(tb, events)
		cell := func(at int64) *wantCell {
			k := DayKey{Day: uint32(at - at%86400), Carrier: f.carrier, Lane: f.lane, Service: f.service, Merchant: f.merchant}
			c := cells[k]
			if c == nil {
				c = &wantCell{transit: map[int16]int64{}, customs: map[int16]int64{}}
				cells[k] = c
			}
			return c
		}
		if f.delivered != 0 {
			c := cell(f.delivered)
			c.delivered++
			if f.hasPromise {
				c.withPromise++
				if f.delivered <= f.promised {
					c.onTime++
				}
			}
			h, _ := f.transitHours()
			c.transit[Bucket(h)]++
			if d, ok := f.dwellHours(); ok {
				c.customs[Bucket(d)]++
			}
		}
		if f.exceptionAt != 0 {
			cell(f.exceptionAt).exceptions++
		}
		for i, at := range f.typeAt {
			if at != 0 {
				cell(at).byType[i]++
			}
		}
	}
	out := make(map[DayKey]wantCell, len(cells))
	for k, c := range cells {
		out[k] = *c
	}
	return out
}

func cloneState(s Shipment) Shipment {
	s.EarlyOut = slices.Clone(s.EarlyOut)
	return s
}

// TestPartitionEndToEnd is the exactness property of the write path: ~200
// shipments' events in arrival order, with late and duplicate events,
// periodic writes (Misses → Resolve against storage → Pending → Written),
// eviction with a short retention, a restart that restores from storage and
// a crash between the aggregates write and the facts write, replayed as
// accounted. In the end the aggregates written must equal those of every
// shipment's complete events, and storage must hold every shipment's
// complete state.
func TestPartitionEndToEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 9))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const shipments, partition = 200, 3
	ret := Retention{Closed: 2 * dayDur, Lost: 4 * dayDur}

	byTN := make(map[string][]schemas.Event)
	var stream []e2eArrival
	for i := 0; i < shipments; i++ {
		tn := fmt.Sprintf("E2E%03d", i)
		j := journey(r, tn, base.Add(time.Duration(r.IntN(60*24*3600))*time.Second))
		for _, a := range j {
			byTN[tn] = append(byTN[tn], a.e)
		}
		stream = append(stream, j...)
	}
	sort.Slice(stream, func(i, j int) bool {
		if stream[i].at != stream[j].at {
			return stream[i].at < stream[j].at
		}
		return stream[i].seq < stream[j].seq
	})

	storage := make(map[string]Shipment) // the last fact written per shipment
	var total Days                       // the aggregates written
	p := NewPartition()
	var batch []schemas.Event // applied since the last complete write
	var stats struct{ writes, evicted, found, foundMoved, moved, restored int }

	write := func(crash bool) {
		t.Helper()
		found := make(map[string]Shipment)
		if misses := p.Misses(); len(misses) > 0 {
			p.Resolve(func(tn string) (Shipment, bool) {
				st, ok := storage[tn]
				if ok {
					found[tn] = st
					stats.found++
				}
				return cloneState(st), ok
			})
		}
		if m := p.Misses(); len(m) != 0 {
			t.Fatalf("Misses after Resolve: %v", m)
		}
		facts, days := p.Pending(partition)
		days.Each(func(k DayKey, c *DayCell) {
			if c.Delivered < 0 {
				stats.moved++
			}
		})
		total.Merge(days)
		if crash {
			return // the aggregates landed, the facts did not
		}
		for _, f := range factsByTN(t, facts, partition) {
			if old, ok := found[f.TrackingNumber]; ok && old.DeliveredAt != 0 && Day(old.DeliveredAt) != Day(f.State.DeliveredAt) {
				stats.foundMoved++
			}
			storage[f.TrackingNumber] = cloneState(f.State)
		}
		p.Written()
		batch = batch[:0]
		stats.writes++
	}
	// restart replaces the partition with what storage holds and the
	// retention keeps, as a new owner restores it.
	restart := func() {
		t.Helper()
		var w uint32
		for _, st := range storage {
			w = max(w, st.LastAt)
		}
		p = NewPartition()
		for tn, st := range storage {
			if ret.Keep(&st, w) {
				p.Restore(tn, cloneState(st))
				stats.restored++
			}
		}
		if p.Watermark() != w || p.Changed() != 0 {
			t.Fatalf("after restart: Watermark %d (want %d), Changed %d", p.Watermark(), w, p.Changed())
		}
	}

	restartAt, crashAt := len(stream)/3, 2*len(stream)/3
	untilWrite := 1 + r.IntN(60)
	for i, a := range stream {
		e := a.e
		p.Apply(&e, false)
		batch = append(batch, e)
		if untilWrite--; untilWrite > 0 && i != restartAt && i != crashAt {
			continue
		}
		untilWrite = 1 + r.IntN(60)
		switch i {
		case restartAt:
			write(false)
			restart()
		case crashAt:
			write(true)
			replay := slices.Clone(batch)
			restart()
			for _, e := range replay {
				if !p.Has(e.TrackingNumber) {
					if st, ok := storage[e.TrackingNumber]; ok {
						p.Restore(e.TrackingNumber, cloneState(st))
					}
				}
				p.Apply(&e, true)
			}
			if m := p.Misses(); len(m) != 0 {
				t.Fatalf("accounted replay left misses %v", m)
			}
			if _, days := p.Pending(partition); len(cellsOf(t, days)) != 0 {
				t.Fatalf("accounted replay changes the aggregates: %v", cellsOf(t, days))
			}
			write(false)
		default:
			write(false)
		}
		if stats.writes%3 == 0 {
			stats.evicted += p.Evict(ret)
		}
	}
	write(false)

	t.Logf("%d events, %d writes, %d evicted, %d restored, %d found in storage (%d of them moved day), %d cells lost a delivery",
		len(stream), stats.writes, stats.evicted, stats.restored, stats.found, stats.foundMoved, stats.moved)
	if stats.evicted == 0 || stats.found == 0 || stats.foundMoved == 0 || stats.moved == 0 || stats.restored == 0 {
		t.Fatalf("the stream did not exercise eviction, late events for evicted shipments and moved delivery days: %+v", stats)
	}

	// Every shipment's stored state is that of all its events.
	for tn, events := range byTN {
		st, ok := storage[tn]
		if !ok {
			t.Fatalf("%s was never written", tn)
		}
		want := fold(events)
		checkSame(t, &st, &want)
		checkRef(t, &st, ref(t, events))
		if t.Failed() {
			t.Fatalf("%s: state differs", tn)
		}
	}

	// The aggregates written equal those of the complete states...
	var exact Days
	for _, events := range byTN {
		s := fold(events)
		c := s.Contribution()
		exact.Add(&c, 1)
	}
	got := cellsOf(t, &total)
	if want := cellsOf(t, &exact); len(got) != len(want) {
		t.Errorf("%d cells written, %d from the complete states", len(got), len(want))
	}
	// ...and those the definitions give.
	checkCells(t, &total, refCells(t, byTN))
	checkCells(t, &exact, refCells(t, byTN))
}
