package reference

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// t0 is 08:00 UTC on the first day of the default range, so that offsets of
// a few days stay inside it.
var t0 = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

var (
	from = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	to   = time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
)

func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

// ev builds an event of shipment tn, h hours after t0: a chinapost CN-US
// scan unless opts say otherwise. Its id is tn + ":" + id.
func ev(tn, id string, st schemas.Status, h float64, opts ...func(*schemas.Event)) schemas.Event {
	e := schemas.Event{
		EventID: tn + ":" + id, TrackingNumber: tn, Carrier: "chinapost",
		OriginCountry: "CN", DestinationCountry: "US", Status: st, OccurredAt: at(h),
	}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func promise(h float64) func(*schemas.Event) {
	return func(e *schemas.Event) { e.PromisedAt = at(h) }
}

func countries(origin, dest string) func(*schemas.Event) {
	return func(e *schemas.Event) { e.OriginCountry, e.DestinationCountry = origin, dest }
}

func carrier(c string) func(*schemas.Event) { return func(e *schemas.Event) { e.Carrier = c } }

func id(s string) func(*schemas.Event) { return func(e *schemas.Event) { e.EventID = s } }

func when(t time.Time) func(*schemas.Event) { return func(e *schemas.Event) { e.OccurredAt = t } }

func p(v float64) *float64 { return &v }

// delivered is the row of n delivered shipments with the given figures and
// no promise, customs or exception, for cases to adjust.
func delivered(c, lane string, n int64, p50, p90 float64) Row {
	return Row{Carrier: c, Lane: lane, Delivered: n, TransitHoursP50: p(p50), TransitHoursP90: p(p90)}
}

// only is a chinapost CN-US row with one delivered shipment of the given
// transit hours.
func only(transit float64) Row { return delivered("chinapost", "CN-US", 1, transit, transit) }

func with(r Row, f func(*Row)) Row { f(&r); return r }

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= 1e-9
}

func equalRows(got, want []Row) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Carrier != w.Carrier || g.Lane != w.Lane || g.Delivered != w.Delivered || g.WithPromise != w.WithPromise ||
			g.OnTime != w.OnTime || g.Exceptions != w.Exceptions || !sameFloat(g.OnTimeRate, w.OnTimeRate) ||
			!sameFloat(g.TransitHoursP50, w.TransitHoursP50) || !sameFloat(g.TransitHoursP90, w.TransitHoursP90) ||
			!sameFloat(g.CustomsDwellHoursP50, w.CustomsDwellHoursP50) || !sameFloat(g.CustomsDwellHoursP90, w.CustomsDwellHoursP90) {
			return false
		}
	}
	return true
}

func show(rows []Row) string {
	var b strings.Builder
	for i := range rows {
		fmt.Fprintf(&b, "\n\t%s: %s", rows[i].key(), format(&rows[i]))
	}
	if len(rows) == 0 {
		b.WriteString(" none")
	}
	return b.String()
}

// TestScorecard holds the reference to scorecards computed by hand from the
// definitions (package comment), one situation per case.
func TestScorecard(t *testing.T) {
	type span struct{ from, to time.Time }
	all := span{from, to}
	f := func(name string, r span, events []schemas.Event, want ...Row) {
		t.Helper()
		if got := Scorecard(events, r.from, r.to); !equalRows(got, want) {
			t.Errorf("%s:\n got%s\nwant%s", name, show(got), show(want))
		}
	}
	const P, I, T, A = schemas.PickedUp, schemas.InfoReceived, schemas.InTransit, schemas.ArrivedDestination
	const CC, CH, CR = schemas.CustomsClearance, schemas.CustomsHeld, schemas.CustomsReleased
	const OFD, AFP, DF, D = schemas.OutForDelivery, schemas.AvailableForPickup, schemas.DeliveryFailed, schemas.Delivered
	const R, X = schemas.Returned, schemas.Exception

	f("on time", all, []schemas.Event{
		ev("A", "1", I, -10, promise(200)), ev("A", "2", P, 0), ev("A", "3", T, 20), ev("A", "4", D, 100),
	}, with(only(100), func(r *Row) { r.WithPromise, r.OnTime, r.OnTimeRate = 1, 1, p(1) }))

	// Lanes.
	f("the first event has no countries: the lane is the earliest with both", all, []schemas.Event{
		ev("A", "1", I, 0, carrier("cainiao"), countries("CN", "")),
		ev("A", "2", P, 5, carrier("cainiao"), countries("CN", "GB")),
		ev("A", "3", T, 8, carrier("cainiao"), countries("CN", "US")),
		ev("A", "4", D, 50, carrier("cainiao"), countries("", "")),
	}, delivered("cainiao", "CN-GB", 1, 45, 45))
	f("the lane is the earliest by occurred_at, not the first to arrive", all, []schemas.Event{
		ev("A", "3", T, 10), ev("A", "2", P, 5, countries("CN", "GB")), ev("A", "4", D, 60),
	}, delivered("chinapost", "CN-GB", 1, 55, 55))
	f("no event has both countries: no lane, not a made-up one", all, []schemas.Event{
		ev("A", "1", I, 0, countries("CN", "")), ev("A", "2", P, 2, countries("", "US")), ev("A", "3", D, 30, countries("", "")),
	}, delivered("chinapost", "", 1, 28, 28))
	f("the carrier is that of the earliest event", all, []schemas.Event{
		ev("A", "4", D, 60, carrier("usps")), ev("A", "3", OFD, 50, carrier("usps")),
		ev("A", "2", P, 5, carrier("yunexpress")), ev("A", "1", I, 0, carrier("cainiao")),
	}, delivered("cainiao", "CN-US", 1, 55, 55))

	// Equal timestamps: the status taxonomy, then the id's FNV-1a hash.
	f("customs opened and closed in one second dwell 0", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "3", CR, 40), ev("A", "2", CC, 40), ev("A", "4", D, 60),
	}, with(only(60), func(r *Row) { r.CustomsDwellHoursP50, r.CustomsDwellHoursP90 = p(0), p(0) }))
	f("pre-advice and pickup in one second: labels from the info_received", all, []schemas.Event{
		ev("A", "2", P, 0, carrier("yunexpress"), countries("CN", "GB")), ev("A", "1", I, 0, carrier("cainiao")), ev("A", "3", D, 24),
	}, delivered("cainiao", "CN-US", 1, 24, 24))
	f("hold and release in one second: the release's promise is in force", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "3", CR, 40, promise(80)), ev("A", "2", CH, 40, promise(50)), ev("A", "4", D, 60),
	}, with(only(60), func(r *Row) {
		r.WithPromise, r.OnTime, r.OnTimeRate, r.Exceptions = 1, 1, p(1), 1
		r.CustomsDwellHoursP50, r.CustomsDwellHoursP90 = p(0), p(0)
	}))
	// FNV-1a 64 (computed by hand with Python): "tie:2" 0x6d1a0d6c5f385b09,
	// "tie:3" 0x6d1a0c6c5f385956, so tie:2 is the later event although its
	// id sorts first as text.
	f("same status in one second: the id hash decides the promise", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "", T, 10, id("tie:2"), promise(80)), ev("A", "", T, 10, id("tie:3"), promise(50)), ev("A", "4", D, 60),
	}, with(only(60), func(r *Row) { r.WithPromise, r.OnTime, r.OnTimeRate = 1, 1, p(1) }))
	f("out for delivery and delivered in one second", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", CC, 30), ev("A", "4", D, 45), ev("A", "3", OFD, 45),
	}, with(only(45), func(r *Row) { r.CustomsDwellHoursP50, r.CustomsDwellHoursP90 = p(15), p(15) }))

	// Duplicates and arrival order.
	f("a duplicate counts once", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", DF, 20), ev("A", "3", D, 30), ev("A", "3", D, 30), ev("A", "2", DF, 20), ev("A", "1", P, 0),
	}, with(only(30), func(r *Row) { r.Exceptions = 1 }))
	f("out of order: a late pickup moves the start", all, []schemas.Event{
		ev("A", "4", D, 60), ev("A", "2", T, 10), ev("A", "3", P, 20), ev("A", "1", I, 0),
	}, only(40))
	f("out of order: the promise of the latest event by occurred_at wins, not the last to arrive", all, []schemas.Event{
		ev("A", "3", P, 20, promise(50)), ev("A", "4", D, 60), ev("A", "2", T, 10, promise(70)),
	}, with(only(40), func(r *Row) { r.WithPromise, r.OnTimeRate = 1, p(0) }))

	// Promises.
	f("no promise: no on-time figures", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", D, 30),
	}, only(30))
	f("delivered exactly at the promise is on time", all, []schemas.Event{
		ev("A", "1", P, 0, promise(100)), ev("A", "2", D, 100),
	}, with(only(100), func(r *Row) { r.WithPromise, r.OnTime, r.OnTimeRate = 1, 1, p(1) }))
	f("a promise on an info_received counts", all, []schemas.Event{
		ev("A", "1", I, 0, promise(20)), ev("A", "2", P, 1), ev("A", "3", D, 30),
	}, with(only(29), func(r *Row) { r.WithPromise, r.OnTimeRate = 1, p(0) }))
	// DESIGN compares occurred_at with promised_at, not whole seconds.
	f("half a second late is late", all, []schemas.Event{
		ev("A", "1", P, 0, promise(100)), ev("A", "2", D, 0, when(at(100).Add(500*time.Millisecond))),
	}, with(only(100+0.5/3600), func(r *Row) { r.WithPromise, r.OnTimeRate = 1, p(0) }))

	// Customs.
	f("customs left by an out_for_delivery, no release scan", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", CC, 40), ev("A", "3", OFD, 50), ev("A", "4", D, 52),
	}, with(only(52), func(r *Row) { r.CustomsDwellHoursP50, r.CustomsDwellHoursP90 = p(10), p(10) }))
	f("customs with a hold runs from the first customs event to the release", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", A, 40), ev("A", "3", CC, 41), ev("A", "4", CH, 45), ev("A", "5", CR, 89), ev("A", "6", D, 110),
	}, with(only(110), func(r *Row) {
		r.CustomsDwellHoursP50, r.CustomsDwellHoursP90, r.Exceptions = p(48), p(48), 1
	}))
	f("a customs end before customs started does not end it", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", OFD, 10), ev("A", "3", CC, 40), ev("A", "4", CR, 52), ev("A", "5", D, 60),
	}, with(only(60), func(r *Row) { r.CustomsDwellHoursP50, r.CustomsDwellHoursP90 = p(12), p(12) }))
	f("customs after the delivery (bad data) has no end", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", D, 30), ev("A", "3", CC, 40),
	}, only(30))
	f("a pickup point ends customs", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", CC, 40), ev("A", "3", AFP, 70), ev("A", "4", D, 100),
	}, with(only(100), func(r *Row) { r.CustomsDwellHoursP50, r.CustomsDwellHoursP90 = p(30), p(30) }))
	f("still held: an exception, nothing delivered", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", CH, 40),
	}, Row{Carrier: "chinapost", Lane: "CN-US", Exceptions: 1})

	// Shipments that are not delivered.
	f("info_received only: no row", all, []schemas.Event{ev("A", "1", I, 0, promise(100))})
	f("returned: an exception from its first exception event", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", DF, 50), ev("A", "3", R, 90),
	}, Row{Carrier: "chinapost", Lane: "CN-US", Exceptions: 1})
	f("lost with an exception scan", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", T, 5), ev("A", "3", X, 200),
	}, Row{Carrier: "chinapost", Lane: "CN-US", Exceptions: 1})

	// Transit.
	f("start falls back to the first event that is not info_received", all, []schemas.Event{
		ev("A", "1", I, 0), ev("A", "2", T, 12), ev("A", "3", D, 60),
	}, only(48))
	f("the first delivered counts", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "3", D, 70), ev("A", "2", D, 50),
	}, only(50))
	f("a negative transit (delivered before picked up) counts as 0", all, []schemas.Event{
		ev("A", "1", D, 10), ev("A", "2", P, 20),
	}, only(0))

	// The range.
	f("an exception the day before the range is not counted", span{from.AddDate(0, 0, 1), to}, []schemas.Event{
		ev("A", "1", P, -30), ev("A", "2", DF, -20), ev("A", "3", D, 30),
	}, only(60))
	f("an exception in the range of a shipment delivered after it", all, []schemas.Event{
		ev("A", "1", P, 0), ev("A", "2", DF, 20), ev("A", "3", D, 0, when(to.AddDate(0, 0, 1))),
	}, Row{Carrier: "chinapost", Lane: "CN-US", Exceptions: 1})
	f("the days are inclusive and UTC, whatever the time of from and to", span{from.Add(15 * time.Hour), to.Add(time.Hour)}, []schemas.Event{
		ev("A", "1", P, 0, when(from.Add(-time.Hour))), ev("A", "2", D, 0, when(from)),
		ev("B", "1", P, 0, when(from.Add(-time.Hour))), ev("B", "2", D, 0, when(to.Add(24*time.Hour-time.Second))),
		ev("C", "1", P, 0, when(from.Add(-time.Hour))), ev("C", "2", D, 0, when(to.Add(24*time.Hour))),
		ev("E", "1", P, 0, when(from.Add(-time.Hour))), ev("E", "2", D, 0, when(from.Add(-time.Second))),
	}, delivered("chinapost", "CN-US", 2, 1, 24*30+1-1.0/3600)) // A: 1 h; B: Aug 31 23:00 to Sep 30 23:59:59

	// Several shipments in a row: nearest-rank quantiles, rates, sorting.
	var five []schemas.Event
	for i, h := range []float64{30, 10, 50, 20, 40} {
		tn := fmt.Sprint("S", i)
		five = append(five, ev(tn, "1", P, 0), ev(tn, "2", D, h))
	}
	f("five transits: p50 is the 3rd, p90 the 5th", all, five, delivered("chinapost", "CN-US", 5, 30, 50))
	var ten []schemas.Event
	for i := 1; i <= 10; i++ {
		tn := fmt.Sprint("S", i)
		ten = append(ten, ev(tn, "1", P, 0), ev(tn, "2", D, float64(11-i)))
	}
	f("ten transits: p50 is the 5th, p90 the 9th", all, ten, delivered("chinapost", "CN-US", 10, 5, 9))
	f("rates, customs quantiles and rows sorted by carrier and lane", all, []schemas.Event{
		ev("A", "1", P, 0, promise(100)), ev("A", "2", CC, 10), ev("A", "3", CR, 18), ev("A", "4", D, 50),
		ev("B", "1", P, 0, promise(40)), ev("B", "2", CC, 10), ev("B", "3", CR, 14), ev("B", "4", D, 50),
		ev("C", "1", P, 0, promise(60)), ev("C", "2", D, 30),
		ev("D", "1", P, 0), ev("D", "2", D, 70),
		ev("E", "1", P, 0, countries("CN", "GB")), ev("E", "2", D, 20, countries("CN", "GB")),
		ev("F", "1", P, 0, carrier("dhl")), ev("F", "2", D, 10, carrier("dhl")),
		ev("G", "1", P, 0, carrier("4px")), ev("G", "2", R, 10, carrier("4px")),
	},
		Row{Carrier: "4px", Lane: "CN-US", Exceptions: 1},
		delivered("chinapost", "CN-GB", 1, 20, 20),
		with(delivered("chinapost", "CN-US", 4, 50, 70), func(r *Row) {
			r.WithPromise, r.OnTime, r.OnTimeRate = 3, 2, p(2.0/3)
			r.CustomsDwellHoursP50, r.CustomsDwellHoursP90 = p(4), p(8)
		}),
		delivered("dhl", "CN-US", 1, 10, 10),
	)
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }

// TestCompare shows that Compare catches every kind of difference and lets
// through what the contract allows.
func TestCompare(t *testing.T) {
	want := []Row{
		{Carrier: "chinapost", Lane: "CN-US", Delivered: 3, WithPromise: 2, OnTime: 1, OnTimeRate: p(0.5),
			TransitHoursP50: p(100), TransitHoursP90: p(200), CustomsDwellHoursP50: p(0), CustomsDwellHoursP90: p(30), Exceptions: 1},
		{Carrier: "dhl", Lane: "", Delivered: 1, TransitHoursP50: p(50), TransitHoursP90: p(50)},
	}
	const chinapost = `{"carrier":"chinapost","lane":"CN-US","delivered":3,"with_promise":2,"on_time":1,"on_time_rate":0.5,
		"transit_hours_p50":100.9,"transit_hours_p90":198.1,"customs_dwell_hours_p50":0,"customs_dwell_hours_p90":30.2,"exceptions":1}`
	const dhl = `{"carrier":"dhl","lane":"","delivered":1,"with_promise":0,"on_time":0,"on_time_rate":null,
		"transit_hours_p50":49.6,"transit_hours_p90":50.4,"customs_dwell_hours_p50":null,"customs_dwell_hours_p90":null,"exceptions":0}`
	const good = "[" + chinapost + "," + dhl + "]"
	f := func(name string, got any, want []Row, wantErr string) {
		t.Helper()
		r := &recorder{TB: t}
		Compare(r, got, want)
		joined := strings.Join(r.errs, "\n")
		switch {
		case wantErr == "" && len(r.errs) > 0:
			t.Errorf("%s: unexpected errors:\n%s", name, joined)
		case wantErr != "" && !strings.Contains(joined, wantErr):
			t.Errorf("%s: errors %q, want one containing %q", name, joined, wantErr)
		}
	}
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q is not in the report", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	f("within the tolerances", good, want, "")
	f("as bytes", []byte(good), want, "")
	f("the reference itself, through JSON", want, want, "")
	f("rows in another order", "["+dhl+","+chinapost+"]", want, "")
	f("a count off by one", edit(`"delivered":3`, `"delivered":4`), want, "delivered = 4, reference 3")
	f("with_promise off", edit(`"with_promise":2`, `"with_promise":3`), want, "with_promise = 3, reference 2")
	f("on_time off", edit(`"on_time":1,`, `"on_time":2,`), want, "on_time = 2, reference 1")
	f("exceptions off", edit(`"exceptions":1`, `"exceptions":0`), want, "exceptions = 0, reference 1")
	f("a rate off by 1e-6", edit(`"on_time_rate":0.5`, `"on_time_rate":0.500001`), want, "on_time_rate = 0.500001")
	f("a quantile 1.1% off", edit(`"transit_hours_p50":100.9`, `"transit_hours_p50":101.1`), want, "transit_hours_p50 = 101.1")
	f("a p90 1.1% off", edit(`"transit_hours_p90":198.1`, `"transit_hours_p90":197.7`), want, "transit_hours_p90 = 197.7")
	f("a zero quantile that is not zero", edit(`"customs_dwell_hours_p50":0`, `"customs_dwell_hours_p50":0.001`), want, "customs_dwell_hours_p50 = 0.001")
	f("customs p90 off", edit(`"customs_dwell_hours_p90":30.2`, `"customs_dwell_hours_p90":31`), want, "customs_dwell_hours_p90 = 31")
	f("a value where there is no data", edit(`"on_time_rate":null`, `"on_time_rate":0`), want, "on_time_rate = 0, reference null")
	f("null where there is data", edit(`"transit_hours_p50":100.9`, `"transit_hours_p50":null`), want, "transit_hours_p50 = null, reference 100")
	f("a null count", edit(`"exceptions":0`, `"exceptions":null`), want, "exceptions is null")
	f("a missing key", edit(`"on_time_rate":null,`, ``), want, "missing keys [on_time_rate]")
	f("an unknown key", edit(`"exceptions":0`, `"exceptions":0,"extra":1`), want, "unknown keys [extra]")
	f("a fractional count", edit(`"delivered":3`, `"delivered":3.5`), want, "report row 0")
	f("a missing row", good, append(want[:2:2], Row{Carrier: "ups", Lane: "US-CA", Exceptions: 2}), "reference row ups US-CA is missing")
	f("an extra row", good, want[:1], "report row dhl (no lane) is not in the reference")
	f("a repeated row", "["+chinapost+","+dhl+","+dhl+"]", want, "dhl (no lane) appears more than once")
	f("not an array", `{"carrier":"dhl"}`, want, "not an array")
	f("a lane that differs", edit(`"lane":""`, `"lane":"-"`), want, "dhl - is not in the reference")
	f("nothing delivered", `[]`, nil, "no delivered shipment")
}
