package analytics

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Sketch buckets computed by hand (floor(ln v / ln 1.02)), not by Bucket.
const (
	b12  = 125
	b48  = 195
	b52  = 199
	b76  = 218
	b100 = 232
	b124 = 243
)

// wantCell is an expected row of the daily aggregates.
type wantCell struct {
	delivered, withPromise, onTime, exceptions int64
	byType                                     [NumExceptionTypes]int64
	transit, customs                           map[int16]int64
}

func nonZero(m map[int16]int64) map[int16]int64 {
	out := make(map[int16]int64)
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func (w wantCell) String() string {
	// fmt prints maps sorted by key, and nil and empty maps alike.
	return fmt.Sprintf("delivered=%d with_promise=%d on_time=%d exceptions=%d by_type=%v transit=%v customs=%v",
		w.delivered, w.withPromise, w.onTime, w.exceptions, w.byType, nonZero(w.transit), nonZero(w.customs))
}

// cellsOf returns what Each yields, in a comparable form, and fails on a
// key seen twice or a cell that holds no change.
func cellsOf(tb testing.TB, d *Days) map[DayKey]string {
	tb.Helper()
	out := make(map[DayKey]string)
	d.Each(func(k DayKey, c *DayCell) {
		if _, dup := out[k]; dup {
			tb.Errorf("Each yielded %+v twice", k)
		}
		w := wantCell{c.Delivered, c.WithPromise, c.OnTime, c.Exceptions, c.ByType, c.Transit, c.Customs}
		if w.String() == (wantCell{}).String() {
			tb.Errorf("Each yielded a cell with no change: %+v", k)
		}
		out[k] = w.String()
	})
	return out
}

func checkCells(tb testing.TB, d *Days, want map[DayKey]wantCell) {
	tb.Helper()
	got := cellsOf(tb, d)
	w := make(map[DayKey]string, len(want))
	for k, c := range want {
		w[k] = c.String()
	}
	if maps.Equal(got, w) {
		return
	}
	for k, g := range got {
		if w[k] != g {
			tb.Errorf("cell %+v:\n got %s\nwant %s", k, g, w[k])
		}
	}
	for k, c := range w {
		if _, ok := got[k]; !ok {
			tb.Errorf("cell %+v missing, want %s", k, c)
		}
	}
}

// day returns the Unix seconds of a UTC midnight in September 2026.
func day(d int) uint32 { return uint32(time.Date(2026, 9, d, 0, 0, 0, 0, time.UTC).Unix()) }

// key is the DayKey of the shipments ev builds.
func key(d int) DayKey {
	return DayKey{Day: day(d), Carrier: "chinapost", Lane: "CN-US", Service: "economy"}
}

func contribution(events ...schemas.Event) Contribution {
	s := fold(events)
	return s.Contribution()
}

// Times are hours after t0 = 2026-09-01 08:00 UTC: 40 h is 09-03 00:00,
// 100 h is 09-05 12:00.
func TestContributionDays(t *testing.T) {
	f := func(name string, events []schemas.Event, want map[DayKey]wantCell) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			c := contribution(events...)
			if c.Empty() != (len(want) == 0) {
				t.Errorf("Empty = %v with %d cells expected", c.Empty(), len(want))
			}
			var d Days
			d.Add(&c, 1)
			checkCells(t, &d, want)
			// Retracting what was added leaves no change.
			d.Add(&c, -1)
			checkCells(t, &d, nil)
			// And -1 alone is the negation.
			var n Days
			n.Add(&c, -1)
			neg := make(map[DayKey]wantCell)
			for k, w := range want {
				x := wantCell{-w.delivered, -w.withPromise, -w.onTime, -w.exceptions, [4]int64{}, map[int16]int64{}, map[int16]int64{}}
				for i := range w.byType {
					x.byType[i] = -w.byType[i]
				}
				for b, v := range w.transit {
					x.transit[b] = -v
				}
				for b, v := range w.customs {
					x.customs[b] = -v
				}
				neg[k] = x
			}
			checkCells(t, &n, neg)
		})
	}
	f("delivered on time through customs", []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 120),
		ev("b", schemas.CustomsClearance, 50),
		ev("c", schemas.CustomsReleased, 62),
		ev("d", schemas.Delivered, 100),
	}, map[DayKey]wantCell{
		key(5): {delivered: 1, withPromise: 1, onTime: 1, transit: map[int16]int64{b100: 1}, customs: map[int16]int64{b12: 1}},
	})
	f("late, customs entered after delivery never done", []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 48),
		ev("d", schemas.Delivered, 52),
		ev("c", schemas.CustomsClearance, 60),
	}, map[DayKey]wantCell{
		key(3): {delivered: 1, withPromise: 1, transit: map[int16]int64{b52: 1}},
	})
	f("exceptions on their own days, no promise", []schemas.Event{
		ev("a", schemas.PickedUp, 0),
		ev("h", schemas.CustomsHeld, 40), // 09-03 00:00, the first second of the day
		ev("r", schemas.CustomsReleased, 88),
		ev("f", schemas.DeliveryFailed, 110), // 09-05 22:00
		ev("d", schemas.Delivered, 124),      // 09-06 12:00
	}, map[DayKey]wantCell{
		key(3): {exceptions: 1, byType: [4]int64{1, 0, 0, 0}},
		key(5): {byType: [4]int64{0, 1, 0, 0}},
		key(6): {delivered: 1, transit: map[int16]int64{b124: 1}, customs: map[int16]int64{b48: 1}},
	})
	f("returned, never delivered", []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 60),
		ev("x", schemas.Exception, 20),      // 09-02 04:00
		ev("f", schemas.DeliveryFailed, 70), // 09-04 06:00
		ev("f2", schemas.DeliveryFailed, 71),
		ev("r", schemas.Returned, 100), // 09-05 12:00
	}, map[DayKey]wantCell{
		key(2): {exceptions: 1, byType: [4]int64{0, 0, 0, 1}},
		key(4): {byType: [4]int64{0, 1, 0, 0}},
		key(5): {byType: [4]int64{0, 0, 1, 0}},
	})
	f("all exception types on one day", []schemas.Event{
		ev("h", schemas.CustomsHeld, 17), ev("x", schemas.Exception, 18), ev("f", schemas.DeliveryFailed, 19), ev("r", schemas.Returned, 20),
	}, map[DayKey]wantCell{
		key(2): {exceptions: 1, byType: [4]int64{1, 1, 1, 1}},
	})
	f("delivered with only info_received before counts zero transit", []schemas.Event{
		ev("a", schemas.InfoReceived, 0), ev("d", schemas.Delivered, 30),
	}, map[DayKey]wantCell{
		key(2): {delivered: 1, transit: map[int16]int64{ZeroBucket: 1}},
	})
	f("delivered before picked up counts zero transit", []schemas.Event{
		ev("d", schemas.Delivered, 30), ev("a", schemas.PickedUp, 40),
	}, map[DayKey]wantCell{
		key(2): {delivered: 1, transit: map[int16]int64{ZeroBucket: 1}},
	})
	f("in transit adds nothing", []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 60), ev("b", schemas.CustomsClearance, 20), ev("c", schemas.CustomsReleased, 30),
	}, nil)
	f("info_received only adds nothing", []schemas.Event{ev("a", schemas.InfoReceived, 0)}, nil)

	// Labels: a shipment without countries counts under the empty lane,
	// and a merchant is part of the key.
	e1, e2 := ev("a", schemas.PickedUp, 0), ev("d", schemas.Delivered, 100)
	e1.OriginCountry, e2.DestinationCountry = "", ""
	e1.Merchant, e2.Merchant = "acme", "other"
	f("no lane, merchant of the earliest event", []schemas.Event{e1, e2}, map[DayKey]wantCell{
		{Day: day(5), Carrier: "chinapost", Lane: "", Service: "economy", Merchant: "acme"}: {delivered: 1, transit: map[int16]int64{b100: 1}},
	})
}

func TestContributionFields(t *testing.T) {
	c := contribution(
		withPromise(ev("a", schemas.PickedUp, 0), 120),
		ev("b", schemas.CustomsClearance, 50),
		ev("c", schemas.CustomsReleased, 62),
		ev("x", schemas.Exception, 70),
		ev("d", schemas.Delivered, 100),
	)
	at := func(h float64) uint32 { return uint32(t0.Add(time.Duration(h * float64(time.Hour))).Unix()) }
	if c.DeliveredAt != at(100) || c.Transit != b100 || !c.CustomsDone || c.Customs != b12 || !c.Promise || !c.OnTime {
		t.Errorf("delivery figures %+v", c)
	}
	if c.ExceptionAt != at(70) || c.TypeAt != [4]uint32{0, 0, 0, at(70)} {
		t.Errorf("exception figures %+v", c)
	}
	// Not delivered: nothing of the delivery counts, whatever else is known.
	c = contribution(withPromise(ev("a", schemas.PickedUp, 0), 120), ev("b", schemas.CustomsClearance, 50), ev("c", schemas.CustomsReleased, 62))
	if c.DeliveredAt != 0 || c.Transit != 0 || c.CustomsDone || c.Customs != 0 || c.Promise || c.OnTime || !c.Empty() {
		t.Errorf("undelivered contribution %+v", c)
	}
}

// TestDaysChangeMovesDay: a late delivered event that occurred a day
// earlier moves the shipment from the old delivery day to the new one, with
// its new transit bucket and on-time figure.
func TestDaysChangeMovesDay(t *testing.T) {
	events := []schemas.Event{
		withPromise(ev("a", schemas.PickedUp, 0), 90),
		ev("d1", schemas.Delivered, 100), // 09-05 12:00, late
	}
	s := fold(events)
	from := s.Contribution()
	late := ev("d0", schemas.Delivered, 76) // 09-04 12:00, on time
	if !s.Apply(&late) {
		t.Fatal("the earlier delivered event did not change the shipment")
	}
	to := s.Contribution()
	var d Days
	d.Change(&from, &to)
	checkCells(t, &d, map[DayKey]wantCell{
		key(5): {delivered: -1, withPromise: -1, transit: map[int16]int64{b100: -1}},
		key(4): {delivered: 1, withPromise: 1, onTime: 1, transit: map[int16]int64{b76: 1}},
	})
	// Changing back cancels: Each skips the cells that now hold nothing.
	d.Change(&to, &from)
	checkCells(t, &d, nil)
}

// TestDaysChangeMovesLabels: a late earlier event that carries another
// service relabels the shipment: every cell moves to the new key.
func TestDaysChangeMovesLabels(t *testing.T) {
	s := fold([]schemas.Event{ev("a", schemas.PickedUp, 0), ev("x", schemas.Exception, 20), ev("d", schemas.Delivered, 100)})
	from := s.Contribution()
	info := ev("i", schemas.InfoReceived, -5)
	info.Service = "standard"
	s.Apply(&info)
	to := s.Contribution()
	var d Days
	d.Change(&from, &to)
	std := func(dd int) DayKey { k := key(dd); k.Service = "standard"; return k }
	checkCells(t, &d, map[DayKey]wantCell{
		key(5): {delivered: -1, transit: map[int16]int64{b100: -1}},
		key(2): {exceptions: -1, byType: [4]int64{0, 0, 0, -1}},
		std(5): {delivered: 1, transit: map[int16]int64{b100: 1}},
		std(2): {exceptions: 1, byType: [4]int64{0, 0, 0, 1}},
	})
}

// TestDaysChangeEqualIsEmpty: a change between equal contributions (an
// event that moves no figure the aggregates hold) creates no cell at all.
func TestDaysChangeEqualIsEmpty(t *testing.T) {
	s := fold([]schemas.Event{withPromise(ev("a", schemas.PickedUp, 0), 120), ev("d", schemas.Delivered, 100), ev("f", schemas.DeliveryFailed, 90)})
	from := s.Contribution()
	mid := ev("m", schemas.InTransit, 130) // the latest status now, no figure of the aggregates
	if !s.Apply(&mid) {
		t.Fatal("in_transit did not change the state")
	}
	to := s.Contribution()
	if from != to {
		t.Fatalf("contribution changed: %+v → %+v", from, to)
	}
	var d Days
	d.Change(&from, &to)
	if d.Len() != 0 {
		t.Fatalf("equal contributions created %d cells", d.Len())
	}
	var empty Contribution
	d.Change(&empty, &empty)
	d.Add(&empty, 1)
	if d.Len() != 0 {
		t.Fatalf("empty contributions created %d cells", d.Len())
	}
	checkCells(t, &d, nil)
}

func TestDaysMerge(t *testing.T) {
	a := contribution(withPromise(ev("a", schemas.PickedUp, 0), 120), ev("b", schemas.CustomsClearance, 50),
		ev("c", schemas.CustomsReleased, 62), ev("d", schemas.Delivered, 100))
	b := contribution(ev("a", schemas.PickedUp, 0), ev("h", schemas.CustomsHeld, 40), ev("r", schemas.CustomsReleased, 88),
		ev("f", schemas.DeliveryFailed, 110), ev("d", schemas.Delivered, 124))
	c := contribution(withPromise(ev("a", schemas.PickedUp, 0), 90), ev("d", schemas.Delivered, 100))

	var x, y Days
	x.Add(&a, 1)
	x.Add(&c, 1)
	y.Add(&b, 1)
	y.Add(&a, 1)
	y.Add(&c, -1)
	x.Merge(&y)
	checkCells(t, &x, map[DayKey]wantCell{
		key(5): {delivered: 2, withPromise: 2, onTime: 2, byType: [4]int64{0, 1, 0, 0},
			transit: map[int16]int64{b100: 2}, customs: map[int16]int64{b12: 2}},
		key(3): {exceptions: 1, byType: [4]int64{1, 0, 0, 0}},
		key(6): {delivered: 1, transit: map[int16]int64{b124: 1}, customs: map[int16]int64{b48: 1}},
	})

	// Merging into the zero value copies; merging the negation cancels.
	var z, neg Days
	z.Merge(&x)
	checkCells(t, &z, map[DayKey]wantCell{
		key(5): {delivered: 2, withPromise: 2, onTime: 2, byType: [4]int64{0, 1, 0, 0},
			transit: map[int16]int64{b100: 2}, customs: map[int16]int64{b12: 2}},
		key(3): {exceptions: 1, byType: [4]int64{1, 0, 0, 0}},
		key(6): {delivered: 1, transit: map[int16]int64{b124: 1}, customs: map[int16]int64{b48: 1}},
	})
	neg.Add(&a, -2)
	neg.Add(&b, -1)
	z.Merge(&neg)
	checkCells(t, &z, nil)
	// Merge does not alias: changing the source later leaves z alone.
	x.Add(&a, 5)
	checkCells(t, &z, nil)
	var empty Days
	z.Merge(&empty)
	checkCells(t, &z, nil)
}
