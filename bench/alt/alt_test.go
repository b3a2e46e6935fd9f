package alt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/chdb/chdbtest"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/reference"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, stop := range []func() error{chtest.Stop, chdbtest.Close} {
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// connect opens a fresh database on the test server (ClickHouse 18.16)
// through the store, as the benchmark suite does.
func connect(t *testing.T) driver.Conn {
	t.Helper()
	addr, db := chtest.DB(t)
	s, err := store.Open(context.Background(), store.Config{Addr: addr, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Conn()
}

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// compare fails t unless got has exactly the rows of the reference, every
// figure equal: the package promises exact quantiles, not the 1% that
// reference.Compare allows. A reference quantile without data (nil) must be
// 0, with no shipment counted for it.
func compare(t *testing.T, got []Row, ref []reference.Row) {
	t.Helper()
	var delivered int64
	for _, r := range ref {
		delivered += r.Delivered
	}
	if delivered == 0 {
		t.Fatal("the reference has no delivered shipment: the comparison proves little")
	}
	if len(got) != len(ref) {
		t.Errorf("%d rows, reference %d", len(got), len(ref))
	}
	f := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	for i := range min(len(got), len(ref)) {
		g, w := got[i], ref[i]
		if g.Carrier != w.Carrier || g.Lane != w.Lane {
			t.Fatalf("row %d is %s %q, reference %s %q", i, g.Carrier, g.Lane, w.Carrier, w.Lane)
		}
		want := Row{
			Carrier: w.Carrier, Lane: w.Lane,
			Delivered: uint64(w.Delivered), WithPromise: uint64(w.WithPromise), OnTime: uint64(w.OnTime),
			WithCustoms: g.WithCustoms, // the reference has no such count; checked below
			Exceptions:  uint64(w.Exceptions),

			TransitHoursP50: f(w.TransitHoursP50), TransitHoursP90: f(w.TransitHoursP90),
			CustomsDwellHoursP50: f(w.CustomsDwellHoursP50), CustomsDwellHoursP90: f(w.CustomsDwellHoursP90),
		}
		if (w.CustomsDwellHoursP50 != nil) != (g.WithCustoms > 0) {
			t.Errorf("%s %q: with_customs %d, reference customs p50 %v", g.Carrier, g.Lane, g.WithCustoms, w.CustomsDwellHoursP50)
		}
		if g != want {
			t.Errorf("%s %q:\n got %+v\nwant %+v", g.Carrier, g.Lane, g, want)
		}
	}
}

func TestScorecardMatchesReference(t *testing.T) {
	g, err := gen.New(gen.Config{Shipments: 3000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	events := g.Events()
	conn := connect(t)
	ctx := context.Background()
	from, to := date("2026-08-01"), date("2026-12-31")
	res, err := Run(ctx, conn, events, from, to, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events inserted in %s, %.0f events/s; scorecard answered in %v (median %s), %d rows",
		res.Events, res.Ingest, res.EventsPerSecond, res.Answer, res.MedianAnswer(), len(res.Rows))
	if res.Events != len(events) || len(res.Answer) != 3 || res.EventsPerSecond <= 0 {
		t.Errorf("result %+v does not describe the run", res)
	}
	compare(t, res.Rows, reference.Scorecard(events, from, to))
	// Ranges that cut journeys: deliveries and first exceptions on both
	// sides, and single days, where one shipment moves a quantile.
	for _, r := range [][2]string{{"2026-09-20", "2026-10-10"}, {"2026-09-25", "2026-09-25"}, {"2026-10-12", "2026-10-12"}} {
		got, err := Scorecard(ctx, conn, date(r[0]), date(r[1]))
		if err != nil {
			t.Fatal(err)
		}
		compare(t, got, reference.Scorecard(events, date(r[0]), date(r[1])))
	}
}

// base is the first day of the hand-built shipments.
var base = time.Date(2026, 9, 10, 0, 0, 0, 0, time.UTC)

// handBuilt returns shipments that each take one path of the definitions,
// in the arrival order given (not by occurred_at): one carrier and lane per
// path, so that each row shows one. h(n) is n hours after base.
func handBuilt() []schemas.Event {
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	ev := func(tn, id, carrier, lane string, st schemas.Status, at time.Time, promised time.Time) schemas.Event {
		e := schemas.Event{EventID: id, TrackingNumber: tn, Carrier: carrier, Status: st, OccurredAt: at, PromisedAt: promised}
		if o, d, ok := strings.Cut(lane, "-"); ok {
			e.OriginCountry, e.DestinationCountry = o, d
		}
		return e
	}
	var none time.Time
	return []schemas.Event{
		// kiwi NZ-IS, a carrier and lane the generator never makes: the
		// delivered scan twice. Delivered on time, 48 h from the pickup.
		ev("A1", "a1-1", "kiwi", "NZ-IS", schemas.InfoReceived, h(0), h(60)),
		ev("A1", "a1-2", "kiwi", "NZ-IS", schemas.PickedUp, h(2), none),
		ev("A1", "a1-4", "kiwi", "NZ-IS", schemas.Delivered, h(50), none),
		ev("A1", "a1-3", "kiwi", "NZ-IS", schemas.InTransit, h(10), none),
		ev("A1", "a1-4", "kiwi", "NZ-IS", schemas.Delivered, h(50), none),
		// kiwi without countries: the row with no lane; 24 h.
		ev("N1", "n1-1", "kiwi", "", schemas.PickedUp, h(0), none),
		ev("N1", "n1-2", "kiwi", "", schemas.Delivered, h(24), none),
		// late: in reverse order. The earlier delivered (h80) arrives last
		// and is the delivery; the promise in force is that of the latest
		// scan that carries one (h70, sent at h30), so it is late. Customs
		// 20 h to 30 h.
		ev("L1", "l1-6", "late", "NZ-IS", schemas.Delivered, h(100), none),
		ev("L1", "l1-4", "late", "NZ-IS", schemas.CustomsReleased, h(30), h(70)),
		ev("L1", "l1-3", "late", "NZ-IS", schemas.CustomsClearance, h(20), none),
		ev("L1", "l1-1", "late", "NZ-IS", schemas.PickedUp, h(0), h(90)),
		ev("L1", "l1-5", "late", "NZ-IS", schemas.Delivered, h(80), none),
		// exc CN-US: held by customs (the first exception, at h10), released
		// at h40, a failed attempt, then delivered at h84.
		ev("E1", "e1-1", "exc", "CN-US", schemas.PickedUp, h(0), none),
		ev("E1", "e1-2", "exc", "CN-US", schemas.CustomsHeld, h(10), none),
		ev("E1", "e1-4", "exc", "CN-US", schemas.DeliveryFailed, h(60), none),
		ev("E1", "e1-3", "exc", "CN-US", schemas.CustomsReleased, h(40), none),
		ev("E1", "e1-5", "exc", "CN-US", schemas.Delivered, h(84), none),
		// exc CN-US: returned, never delivered: an exception only.
		ev("R1", "r1-1", "exc", "CN-US", schemas.PickedUp, h(0), none),
		ev("R1", "r1-2", "exc", "CN-US", schemas.Returned, h(30), none),
		// conf: the second copy of c1-2 says delivered at h30; the first
		// copy is the event, so the delivery is c1-3's, at h40.
		ev("C1", "c1-1", "conf", "CN-GB", schemas.PickedUp, h(0), none),
		ev("C1", "c1-2", "conf", "CN-GB", schemas.InTransit, h(5), none),
		ev("C1", "c1-2", "conf", "CN-GB", schemas.Delivered, h(30), none),
		ev("C1", "c1-3", "conf", "CN-GB", schemas.Delivered, h(40), none),
		// tie: the pre-advice has no countries (the lane comes from the
		// pickup); clearance and release in the same second, the release
		// first: the taxonomy orders them, so the dwell is 0 h.
		ev("T1", "t1-0", "tie", "", schemas.InfoReceived, h(-1), none),
		ev("T1", "t1-1", "tie", "CN-US", schemas.PickedUp, h(0), none),
		ev("T1", "t1-3", "tie", "CN-US", schemas.CustomsReleased, h(10), none),
		ev("T1", "t1-2", "tie", "CN-US", schemas.CustomsClearance, h(10), none),
		ev("T1", "t1-4", "tie", "CN-US", schemas.Delivered, h(20), none),
		// nopick: no picked_up; the start is the first scan that is not
		// info_received: 24 h.
		ev("P1", "p1-1", "nopick", "CN-US", schemas.InfoReceived, h(0), none),
		ev("P1", "p1-2", "nopick", "CN-US", schemas.InTransit, h(5), none),
		ev("P1", "p1-3", "nopick", "CN-US", schemas.Delivered, h(29), none),
		// neg: delivered before the pickup: transit 0 h.
		ev("X1", "x1-1", "neg", "CN-US", schemas.Delivered, h(0), none),
		ev("X1", "x1-2", "neg", "CN-US", schemas.PickedUp, h(10), none),
	}
}

func TestScorecardAdversarial(t *testing.T) {
	events := handBuilt()
	conn := connect(t)
	ctx := context.Background()
	from, to := base, base.AddDate(0, 0, 10)
	res, err := Run(ctx, conn, events, from, to, 1)
	if err != nil {
		t.Fatal(err)
	}
	// By hand, from the comments of handBuilt.
	want := []Row{
		{Carrier: "conf", Lane: "CN-GB", Delivered: 1, TransitHoursP50: 40, TransitHoursP90: 40},
		{Carrier: "exc", Lane: "CN-US", Delivered: 1, WithCustoms: 1, Exceptions: 2,
			TransitHoursP50: 84, TransitHoursP90: 84, CustomsDwellHoursP50: 30, CustomsDwellHoursP90: 30},
		{Carrier: "kiwi", Lane: "", Delivered: 1, TransitHoursP50: 24, TransitHoursP90: 24},
		{Carrier: "kiwi", Lane: "NZ-IS", Delivered: 1, WithPromise: 1, OnTime: 1, TransitHoursP50: 48, TransitHoursP90: 48},
		{Carrier: "late", Lane: "NZ-IS", Delivered: 1, WithPromise: 1, WithCustoms: 1,
			TransitHoursP50: 80, TransitHoursP90: 80, CustomsDwellHoursP50: 10, CustomsDwellHoursP90: 10},
		{Carrier: "neg", Lane: "CN-US", Delivered: 1},
		{Carrier: "nopick", Lane: "CN-US", Delivered: 1, TransitHoursP50: 24, TransitHoursP90: 24},
		{Carrier: "tie", Lane: "CN-US", Delivered: 1, WithCustoms: 1, TransitHoursP50: 20, TransitHoursP90: 20},
	}
	if fmt.Sprint(res.Rows) != fmt.Sprint(want) {
		t.Errorf("scorecard:\n got %+v\nwant %+v", res.Rows, want)
	}
	compare(t, res.Rows, reference.Scorecard(events, from, to))

	// Days 2 and 3 hold the deliveries at h50, h80 and h84, and no first
	// exception; day 1 those at h24, h29 and h40, and R1's return.
	from, to = base.AddDate(0, 0, 2), base.AddDate(0, 0, 3)
	got, err := Scorecard(ctx, conn, from, to)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, got, reference.Scorecard(events, from, to))
	day1 := base.AddDate(0, 0, 1)
	if got, err = Scorecard(ctx, conn, day1, day1); err != nil {
		t.Fatal(err)
	}
	want = []Row{
		{Carrier: "conf", Lane: "CN-GB", Delivered: 1, TransitHoursP50: 40, TransitHoursP90: 40},
		{Carrier: "exc", Lane: "CN-US", Exceptions: 1},
		{Carrier: "kiwi", Lane: "", Delivered: 1, TransitHoursP50: 24, TransitHoursP90: 24},
		{Carrier: "nopick", Lane: "CN-US", Delivered: 1, TransitHoursP50: 24, TransitHoursP90: 24},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scorecard of day 1:\n got %+v\nwant %+v", got, want)
	}
	compare(t, got, reference.Scorecard(events, day1, day1))

	// A second Insert continues the arrival order: another copy of c1-2,
	// whatever it says, changes nothing.
	late := schemas.Event{EventID: "c1-2", TrackingNumber: "C1", Carrier: "conf", Status: schemas.PickedUp,
		OriginCountry: "CN", DestinationCountry: "GB", OccurredAt: base.Add(-time.Hour)}
	if _, err := Insert(ctx, conn, []schemas.Event{late}); err != nil {
		t.Fatal(err)
	}
	from, to = base, base.AddDate(0, 0, 10)
	if got, err = Scorecard(ctx, conn, from, to); err != nil {
		t.Fatal(err)
	}
	compare(t, got, reference.Scorecard(append(events, late), from, to))
}

// TestEventIDAcrossShipments shows the one documented departure from the
// reference: an event id is looked for within its shipment only.
func TestEventIDAcrossShipments(t *testing.T) {
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	events := []schemas.Event{
		{EventID: "s1-1", TrackingNumber: "S1", Carrier: "reuse", Status: schemas.PickedUp, OccurredAt: h(0)},
		{EventID: "shared", TrackingNumber: "S1", Carrier: "reuse", Status: schemas.Delivered, OccurredAt: h(10)},
		{EventID: "s2-1", TrackingNumber: "S2", Carrier: "reuse", Status: schemas.PickedUp, OccurredAt: h(0)},
		{EventID: "shared", TrackingNumber: "S2", Carrier: "reuse", Status: schemas.Delivered, OccurredAt: h(30)},
	}
	res, err := Run(context.Background(), connect(t), events, base, base.AddDate(0, 0, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{{Carrier: "reuse", Delivered: 2, TransitHoursP50: 10, TransitHoursP90: 30}}
	if fmt.Sprint(res.Rows) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v (the reference counts S1 only)", res.Rows, want)
	}
}

// randomShipments builds n small shipments made to collide, after the
// reference's own agreement test: few distinct times (most events tie), any
// status in any order, labels that differ between events of one shipment,
// countries missing, several promises, exact and conflicting copies of an
// event id, shuffled arrival. Each shipment has carriers of its own, so a
// row holds one shipment and any figure that differs shows.
func randomShipments(n int, seed uint64) []schemas.Event {
	r := rand.New(rand.NewPCG(seed, 8))
	statuses := schemas.Statuses()
	var events []schemas.Event
	for i := range n {
		tn := fmt.Sprintf("ADV%05d", i)
		carriers := []string{fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)}
		var evs []schemas.Event
		for j := range 1 + r.IntN(8) {
			e := schemas.Event{
				EventID:        fmt.Sprintf("%s-%d", tn, j),
				TrackingNumber: tn,
				Carrier:        carriers[r.IntN(2)],
				Status:         statuses[r.IntN(len(statuses))],
				OccurredAt:     base.Add(time.Duration(r.IntN(4)*(1+r.IntN(40))) * time.Hour),
			}
			switch r.IntN(4) {
			case 0:
				e.OriginCountry, e.DestinationCountry = "CN", "US"
			case 1:
				e.OriginCountry, e.DestinationCountry = "CN", "GB"
			case 2:
				e.OriginCountry = "CN"
			}
			if r.IntN(2) == 0 {
				e.PromisedAt = base.Add(time.Duration(r.IntN(5)*30) * time.Hour)
			}
			evs = append(evs, e)
			switch r.IntN(6) {
			case 0:
				evs = append(evs, e)
			case 1:
				c := e
				c.Status = statuses[r.IntN(len(statuses))]
				c.OccurredAt = c.OccurredAt.Add(time.Duration(r.IntN(30)) * time.Hour)
				evs = append(evs, c)
			}
		}
		r.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
		events = append(events, evs...)
	}
	return events
}

func TestScorecardRandomShipments(t *testing.T) {
	events := randomShipments(2000, 7)
	conn := connect(t)
	ctx := context.Background()
	if err := Reset(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if _, err := Insert(ctx, conn, events); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]time.Time{{date("2026-09-01"), date("2026-10-31")}, {date("2026-09-11"), date("2026-09-12")}} {
		got, err := Scorecard(ctx, conn, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		compare(t, got, reference.Scorecard(events, r[0], r[1]))
	}
}

// TestCurrentClickHouse runs the DDL and the scorecard on current
// ClickHouse (libchdb), with the rows inserted as VALUES, since libchdb has
// no native protocol.
func TestCurrentClickHouse(t *testing.T) {
	db, name := chdbtest.Database(t)
	table := name + "." + Table
	if err := db.Exec(createSQL(table)); err != nil {
		t.Fatalf("cannot create the table on current ClickHouse: %v", err)
	}
	g, err := gen.New(gen.Config{Shipments: 300, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	events := append(append(g.Events(), handBuilt()...), randomShipments(300, 9)...)
	var c batchColumns
	c.fill(events, 0)
	if err := db.Exec(valuesSQL(insertSQL(table), c.values(), len(events))); err != nil {
		t.Fatalf("cannot insert on current ClickHouse: %v", err)
	}
	for _, r := range [][2]time.Time{{date("2026-08-01"), date("2026-12-31")}, {date("2026-09-11"), date("2026-09-20")}} {
		lo, hi := r[0].Unix(), r[1].AddDate(0, 0, 1).Unix()
		out, err := db.Query(scorecardSQL(table, lo, hi), "TabSeparated")
		if err != nil {
			t.Fatalf("the scorecard fails on current ClickHouse: %v", err)
		}
		compare(t, parseRows(t, out), reference.Scorecard(events, r[0], r[1]))
	}
}

// valuesSQL renders n rows of columns (as batchColumns.values returns them)
// after insert as VALUES.
func valuesSQL(insert string, columns []any, n int) string {
	var b strings.Builder
	b.WriteString(insert + " VALUES ")
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, col := range columns {
			if j > 0 {
				b.WriteString(", ")
			}
			switch v := col.(type) {
			case []uint64:
				b.WriteString(strconv.FormatUint(v[i], 10))
			case []int64:
				b.WriteString(strconv.FormatInt(v[i], 10))
			case []int8:
				b.WriteString(strconv.Itoa(int(v[i])))
			case []string:
				b.WriteString("'" + quote.Replace(v[i]) + "'")
			default:
				panic(fmt.Sprintf("no literal for %T", col))
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// parseRows reads the scorecard as TabSeparated text.
func parseRows(t *testing.T, out string) []Row {
	t.Helper()
	var rows []Row
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 11 {
			t.Fatalf("scorecard line %q has %d fields, want 11", line, len(f))
		}
		u := func(s string) uint64 {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		x := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		rows = append(rows, Row{Carrier: f[0], Lane: f[1], Delivered: u(f[2]), WithPromise: u(f[3]), OnTime: u(f[4]),
			WithCustoms: u(f[5]), Exceptions: u(f[6]), TransitHoursP50: x(f[7]), TransitHoursP90: x(f[8]),
			CustomsDwellHoursP50: x(f[9]), CustomsDwellHoursP90: x(f[10])})
	}
	return rows
}
