package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/schemas"
)

// etaAt returns day0 + h hours in Unix seconds.
func etaAt(h float64) uint32 { return uint32(day0.Unix()) + uint32(h*3600) }

// etaVersion is the model version of every test prediction: the day before day0.
var etaVersion = uint32(day0.Unix()) - 86400

// etaShipment labels the records and outcome of one test shipment.
type etaShipment struct{ tn, carrier, service, lane, merchant string }

// rec is a prediction made at asOf hours, p10/p50/p90 in hours from day0,
// promised a Unix time or 0.
func (l etaShipment) rec(rev uint64, st schemas.Status, m eta.Milestone, asOf, p10, p50, p90 float64, promised uint32, b eta.Basis) eta.Record {
	return eta.Record{TrackingNumber: l.tn, Carrier: l.carrier, Service: l.service, Lane: l.lane, Merchant: l.merchant,
		Status: st, PromisedAt: promised, Rev: rev,
		Prediction: eta.Prediction{AsOf: etaAt(asOf), Milestone: m, P10: etaAt(p10), P50: etaAt(p50), P90: etaAt(p90), Version: etaVersion, Basis: b}}
}

// final is the row of a shipment delivered at h hours.
func (l etaShipment) final(rev uint64, h float64, promised uint32) eta.Record {
	return l.rec(rev, schemas.Delivered, eta.NewMilestone(schemas.Delivered, true), h, h, h, h, promised, eta.BasisDelivered)
}

func (l etaShipment) outcome(rev uint64, start, delivered float64, promised uint32) eta.Outcome {
	return eta.Outcome{TrackingNumber: l.tn, Carrier: l.carrier, Service: l.service, Lane: l.lane, Merchant: l.merchant,
		Start: etaAt(start), DeliveredAt: etaAt(delivered), PromisedAt: promised, Rev: rev}
}

var (
	msPickedUp      = eta.NewMilestone(schemas.PickedUp, false)                   // picked_up
	msInTransit     = eta.NewMilestone(schemas.InTransit, false)                  // in_transit
	msInTransitDest = eta.NewMilestone(schemas.InTransit, true)                   // in_transit_destination
	msOutFor        = eta.NewMilestone(schemas.OutForDelivery, false)             // out_for_delivery
	msCustoms       = eta.NewMilestone(schemas.CustomsClearance, false)           // customs_clearance
	msInfo          = eta.NewMilestone(schemas.InfoReceived, false)               // info_received
	etaA            = etaShipment{"ZA1", "顺丰", "标准快递", "CN-US", "Müller & Söhne"} // delivered at 48 h (day 2)
	etaB            = etaShipment{"ZB2", "dhl", "express", "CN-GB", "o'brien"}    // delivered at 65 h (day 2), first said 100 h
	etaC            = etaShipment{"ZC3", "dhl", "standard", "CN-US", "acme"}      // open
	etaD            = etaShipment{"ZD4", "ups", "economy", "DE-FR", "zeta"}       // delivered at 125 h (day 5), never predicted
	etaE            = etaShipment{"ZE5", "ups", "express", "DE-FR", "zeta"}       // delivered at 130 h (day 5)
	etaG            = etaShipment{"it's", "ups", "", "", ""}                      // open
)

// The predictions of the test shipments. Hours are from day0; errors
// (p50 - delivery) and the rest of the figures Accuracy must give are
// worked out in TestAccuracy.
var (
	etaA1 = etaA.rec(1, schemas.PickedUp, msPickedUp, 0, 40, 50, 70, etaAt(80), eta.BasisCarrierServiceLane)
	etaA2 = etaA.rec(2, schemas.InTransit, msInTransit, 20, 44, 47, 52, etaAt(60), eta.BasisCarrierLane)
	etaA3 = etaA.rec(3, schemas.InTransit, msInTransitDest, 30, 49, 49, 55, etaAt(60), eta.BasisLane)
	etaA4 = etaA.final(4, 48, etaAt(60))
	etaB1 = etaB.rec(1, schemas.PickedUp, msPickedUp, 10, 50, 60, 80, 0, eta.BasisGlobal)
	etaB2 = etaB.rec(2, schemas.InTransit, msInTransit, 30, 55, 90, 95, 0, eta.BasisPrior)
	// Made at 70 h, after the delivery at 65 h that a late event revealed.
	etaB3 = etaB.rec(3, schemas.InTransit, msInTransit, 70, 71, 72, 80, 0, eta.BasisPrior)
	etaB5 = etaB.final(5, 65, 0)
	etaC1 = etaC.rec(1, schemas.InfoReceived, msInfo, 5, 60, 100, 140, etaAt(96), eta.BasisPromised)
	etaC2 = etaC.rec(2, schemas.InTransit, msInTransit, 40, 70, 90, 120, etaAt(96), eta.BasisCarrierLane)
	etaC3 = etaC.rec(3, schemas.CustomsClearance, msCustoms, 60, 75, 85, 100, etaAt(96), eta.BasisCarrierServiceLane)
	etaE1 = etaE.rec(1, schemas.OutForDelivery, msOutFor, 100, 120, 126, 140, 0, eta.BasisCarrierServiceLane)
	etaE2 = etaE.final(2, 130, 0)
	etaG1 = etaG.rec(7, schemas.PickedUp, msPickedUp, 50, 100, 120, 150, 0, eta.BasisDestination)
)

// etaBatches are the predictions as the processor writes them, flush after
// flush: C's rev 2 comes after its rev 3, and the final rows come last.
var etaBatches = [][]eta.Record{
	{etaA1, etaB1, etaC1},
	{etaA3, etaA2, etaB2, etaC3, etaG1},
	{etaC2},
	{etaB3, etaA4, etaE1},
	{etaE2, etaB5},
}

// etaOutcomeBatches are the outcomes: B first delivered at 100 h (day 4),
// then, with a higher rev, at 65 h.
var etaOutcomeBatches = [][]eta.Outcome{
	{etaA.outcome(4, 0, 48, etaAt(60)), etaB.outcome(4, 10, 100, 0), etaD.outcome(3, 2, 125, 0)},
	{etaB.outcome(5, 10, 65, 0), etaE.outcome(2, 90, 130, 0)},
}

// writeETAs writes etaBatches and etaOutcomeBatches.
func writeETAs(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for _, b := range etaBatches {
		if err := s.WritePredictions(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range etaOutcomeBatches {
		if err := s.WriteOutcomes(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}

// TestETAs writes the test predictions, and again as a retried write, and
// checks every read: the lookups, the export, the deliveries and the
// accuracy give the same hand-worked answers both times.
func TestETAs(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for round, what := range []string{"after the writes", "after the same writes again"} {
		writeETAs(t, s)
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			t.Logf("checking %s", what)
			checkETAs(t, s)
			checkEachPrediction(t, s)
			checkDeliveries(t, s)
			checkAccuracy(t, s)
		})
	}
	if _, err := s.Accuracy(ctx, AccuracyQuery{From: day0.AddDate(0, 0, 1), To: day0}); err == nil {
		t.Error("Accuracy accepted to before from")
	}
}

func checkETAs(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	got, err := s.ETAs(ctx, []string{"ZA1", "ZB2", "ZC3", "nope", "ZD4", "ZE5", "it's", "ZC3"})
	if err != nil {
		t.Fatal(err)
	}
	// D has an outcome but no prediction; C's rev 3 was written before its
	// rev 2; A, B and E end with their final rows.
	want := map[string]eta.Record{"ZA1": etaA4, "ZB2": etaB5, "ZC3": etaC3, "ZE5": etaE2, "it's": etaG1}
	if len(got) != len(want) {
		t.Errorf("ETAs returned %d shipments, want %d: %v", len(got), len(want), slices.Sorted(mapKeys(got)))
	}
	for tn, w := range want {
		if g, ok := got[tn]; !ok || g != w {
			t.Errorf("ETA of %q:\n got %+v\nwant %+v", tn, g, w)
		}
	}
	if a := got["ZA1"]; a.Carrier != "顺丰" || a.Service != "标准快递" || a.Merchant != "Müller & Söhne" {
		t.Errorf("non-ASCII labels came back as %q %q %q", a.Carrier, a.Service, a.Merchant)
	}
	if got, err := s.ETAs(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("ETAs(nil) = %v, %v", got, err)
	}
	// A second chunk: more numbers than lookupChunk, the known one last.
	many := make([]string, lookupChunk+5)
	for i := range many {
		many[i] = fmt.Sprintf("UNKNOWN%07d", i)
	}
	many[len(many)-1] = "ZC3"
	if got, err := s.ETAs(ctx, many); err != nil || len(got) != 1 || got["ZC3"] != etaC3 {
		t.Errorf("ETAs of %d numbers = %d shipments, %v; want ZC3 only", len(many), len(got), err)
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func checkEachPrediction(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	got := map[string]eta.Record{}
	err := s.EachPrediction(ctx, func(r eta.Record) error {
		if _, dup := got[r.TrackingNumber]; dup {
			t.Errorf("EachPrediction gave %q twice", r.TrackingNumber)
		}
		got[r.TrackingNumber] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A's rev 3, B's rev 2 and E's rev 1 are in eta_latest too, superseded
	// by final rows written later.
	if len(got) != 2 || got["ZC3"] != etaC3 || got["it's"] != etaG1 {
		t.Errorf("EachPrediction gave %+v, want C's rev 3 and G's rev 7", got)
	}
	stop := errors.New("stop")
	calls := 0
	err = s.EachPrediction(ctx, func(eta.Record) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("EachPrediction with fn failing: %v after %d calls, want fn's error after 1", err, calls)
	}
}

// render writes a delivery as a line: hours from day0.
func render(d eta.Delivery) string {
	h := func(u uint32) string {
		return strconv.FormatFloat((float64(u)-float64(day0.Unix()))/3600, 'g', -1, 64) + "h"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s/%s/%s start=%s at=%s:", d.TrackingNumber, d.Carrier, d.Service, d.Lane, h(d.Start), h(d.DeliveredAt))
	for _, v := range d.Visits {
		fmt.Fprintf(&b, " %s:%s", h(v.At), v.Milestone)
	}
	return b.String()
}

func deliveries(t *testing.T, s *Store, from, to uint32) []string {
	t.Helper()
	var out []string
	err := s.Deliveries(context.Background(), from, to, func(d eta.Delivery) error {
		out = append(out, render(d))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkDeliveries(t *testing.T, s *Store) {
	t.Helper()
	a := "ZA1 顺丰/标准快递/CN-US start=0h at=48h: 0h:picked_up 20h:in_transit 30h:in_transit_destination"
	b := "ZB2 dhl/express/CN-GB start=10h at=65h: 10h:picked_up 30h:in_transit" // not the prediction at 70 h
	d := "ZD4 ups/economy/DE-FR start=2h at=125h:"
	e := "ZE5 ups/express/DE-FR start=90h at=130h: 100h:out_for_delivery"
	f := func(from, to uint32, want ...string) {
		t.Helper()
		if got := deliveries(t, s, from, to); !slices.Equal(got, want) {
			t.Errorf("Deliveries(%gh, %gh):\n got %q\nwant %q", float64(from-etaAt(0))/3600, float64(to-etaAt(0))/3600, got, want)
		}
	}
	f(etaAt(0), etaAt(240), a, b, d, e)
	f(etaAt(48), etaAt(65), a)
	f(etaAt(49), etaAt(66), b)
	f(etaAt(96), etaAt(120)) // day 4, where B's superseded outcome lies
	f(etaAt(120), etaAt(144), d, e)
	f(etaAt(131), etaAt(1000))

	stop := errors.New("stop")
	calls := 0
	if err := s.Deliveries(context.Background(), etaAt(0), etaAt(240), func(eta.Delivery) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Deliveries with fn failing: %v after %d calls, want fn's error after 1", err, calls)
	}
}

// accuracyRow renders a row with its ratios and hours to 4 decimals.
func accuracyRow(r AccuracyRow) string {
	f := func(x float64) string { return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'g', -1, 64) }
	return fmt.Sprintf("%s %s n=%d mae=%s w24=%s same=%s cov=%s bias=%s | n=%d mae=%s w24=%s", r.Day.Format(time.DateOnly), r.Milestone,
		r.Predictions, f(r.MAEHours), f(r.Within24h), f(r.SameDay), f(r.Coverage), f(r.BiasHours),
		r.PromisedPredictions, f(r.PromisedMAEHours), f(r.PromisedWithin24h))
}

func checkAccuracy(t *testing.T, s *Store) {
	t.Helper()
	all := AccuracyQuery{From: day0, To: day0.AddDate(0, 0, 9)}
	f := func(name string, q AccuracyQuery, want ...string) {
		t.Helper()
		rows, err := s.Accuracy(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, r := range rows {
			if r.Day.Unix()%86400 != 0 || !q.ByMilestone && r.Milestone != "" {
				t.Errorf("%s: row %+v", name, r)
			}
			got = append(got, accuracyRow(r))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
	// Day 2 (delivered 48 h and 65 h), the predictions made before delivery:
	//   A1 p50 50 err +2 same day, covered 40-70, promised 80: +32
	//   A2 p50 47 err -1 day 1,    covered 44-52, promised 60: +12
	//   A3 p50 49 err +1 same day, not covered (p10 49), promised 60: +12
	//   B1 p50 60 err -5 same day, covered 50-80
	//   B2 p50 90 err +25 day 3,   covered 55-95
	// |err| 2+1+1+5+25 = 34 over 5: 6.8; within 24 h 4/5; same day 3/5;
	// covered 4/5; bias 22/5 = 4.4; promised 32+12+12 = 56 over 3, 2 within.
	// Day 5: E1 p50 126, delivered 130: err -4; D has no prediction.
	day2 := d(2) + "  n=5 mae=6.8 w24=0.8 same=0.6 cov=0.8 bias=4.4 | n=3 mae=18.6667 w24=0.6667"
	day5 := d(5) + "  n=1 mae=4 w24=1 same=1 cov=1 bias=-4 | n=0 mae=0 w24=0"
	f("all", all, day2, day5)
	with := func(set func(*AccuracyQuery)) AccuracyQuery { q := all; set(&q); return q }
	f("by milestone", with(func(q *AccuracyQuery) { q.ByMilestone = true }),
		d(2)+" in_transit n=2 mae=13 w24=0.5 same=0 cov=1 bias=12 | n=1 mae=12 w24=1",         // A2, B2
		d(2)+" in_transit_destination n=1 mae=1 w24=1 same=1 cov=0 bias=1 | n=1 mae=12 w24=1", // A3
		d(2)+" picked_up n=2 mae=3.5 w24=1 same=1 cov=1 bias=-1.5 | n=1 mae=32 w24=0",         // A1, B1
		d(5)+" out_for_delivery n=1 mae=4 w24=1 same=1 cov=1 bias=-4 | n=0 mae=0 w24=0")
	f("carrier", with(func(q *AccuracyQuery) { q.Carrier = "dhl" }), // B1, B2
		d(2)+"  n=2 mae=15 w24=0.5 same=0.5 cov=1 bias=10 | n=0 mae=0 w24=0")
	f("non-ASCII carrier", with(func(q *AccuracyQuery) { q.Carrier = "顺丰" }), // A1-A3
		d(2)+"  n=3 mae=1.3333 w24=1 same=0.6667 cov=0.6667 bias=0.6667 | n=3 mae=18.6667 w24=0.6667")
	f("lane and carrier", with(func(q *AccuracyQuery) { q.Lane, q.Carrier = "DE-FR", "ups" }), day5)
	f("lane without deliveries", with(func(q *AccuracyQuery) { q.Lane = "CN-GB'" }))
	f("day 4, B's superseded delivery", AccuracyQuery{From: day0.AddDate(0, 0, 4), To: day0.AddDate(0, 0, 4)})
	f("day 5", AccuracyQuery{From: day0.AddDate(0, 0, 5), To: day0.AddDate(0, 0, 5)}, day5)
	f("times within day 2", AccuracyQuery{From: day0.AddDate(0, 0, 2).Add(20 * time.Hour), To: day0.AddDate(0, 0, 2).Add(22 * time.Hour)}, day2)
}

func TestAccuracyQueryValidate(t *testing.T) {
	f := func(q AccuracyQuery, want string) {
		t.Helper()
		if got := fmt.Sprint(q.Validate()); got != want {
			t.Errorf("Validate(%+v) = %s, want %s", q, got, want)
		}
	}
	f(AccuracyQuery{From: day0, To: day0}, "<nil>")
	f(AccuracyQuery{From: day0}, "invalid accuracy query: from and to days are required")
	f(AccuracyQuery{From: day0.AddDate(0, 0, 1), To: day0}, "invalid accuracy query: to 2026-09-01 is before from 2026-09-02")
}

// TestETACostFollowsRange: with many predictions and outcomes outside the
// accuracy's and the deliveries' range, a year earlier or of other
// shipments, their queries read few of them (max_rows_to_read), on
// ClickHouse 18.16: the months outside the range are skipped, and of the
// predictions of other shipments at most the granules at a part's end
// (whose key range is open) are read.
func TestETACostFollowsRange(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	writeETAs(t, s)
	const bulk = 50_000
	old := day0.AddDate(-1, 0, 0)
	var recs []eta.Record
	var outs []eta.Outcome
	for i := range bulk {
		l := etaShipment{fmt.Sprintf("OLD%06d", i), "dhl", "express", "CN-US", "acme"}
		r := l.rec(1, schemas.InTransit, msInTransit, 0, 10, 20, 30, 0, eta.BasisGlobal)
		r.AsOf, r.P10, r.P50, r.P90 = uint32(old.Unix()), uint32(old.Unix())+3600, uint32(old.Unix())+7200, uint32(old.Unix())+9000
		o := l.outcome(2, 0, 0, 0)
		o.Start, o.DeliveredAt = r.AsOf, r.AsOf+7200
		recs, outs = append(recs, r), append(outs, o)
		// Open shipments predicted within the range: read only if the
		// history is not read through the delivered tracking numbers.
		l.tn = fmt.Sprintf("BULK%06d", i)
		recs = append(recs, l.rec(1, schemas.InTransit, msInTransit, 20, 60, 70, 80, 0, eta.BasisGlobal))
	}
	if err := s.WritePredictions(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	// count runs query and returns its rows and the rows it read.
	count := func(query string) (n int, read uint64, err error) {
		var progress atomic.Uint64
		qctx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { progress.Add(p.Rows) }))
		rows, err := s.conn.Query(qctx, query)
		if err != nil {
			return 0, 0, err
		}
		for rows.Next() {
			n++
		}
		err = rows.Err()
		rows.Close()
		return n, progress.Load(), err
	}
	f := func(what, query string, want int, far bool) {
		t.Helper()
		n, read, err := count(query)
		t.Logf("%s: %d rows, read %d", what, n, read)
		switch {
		case err != nil || n != want:
			t.Errorf("%s: %d rows, %v; want %d", what, n, err, want)
		case far && read < bulk:
			t.Errorf("%s read %d rows, want all %d of the old year: the test checks nothing", what, read, bulk)
		case !far && read > bulk/4:
			t.Errorf("%s read %d rows: its cost does not follow its range", what, read)
		}
	}
	deliveries := func(from, to time.Time) string {
		return strings.NewReplacer("%FROM%", dateTime(from.Unix()), "%TO%", dateTime(to.Unix()), "%WHERE%", "1").Replace(deliveriesSQL)
	}
	f("accuracy", AccuracyQuery{From: day0, To: day0.AddDate(0, 0, 9)}.sql(), 2, false)
	f("deliveries", deliveries(day0, day0.AddDate(0, 0, 9)), 4, false)
	f("accuracy of the old year", AccuracyQuery{From: old, To: old}.sql(), 1, true)
	f("deliveries of the old year", deliveries(old, old.AddDate(0, 0, 1)), bulk, true)
}

// TestModels saves and reads model snapshots.
func TestModels(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if v, blob, ok, err := s.LatestModel(ctx); err != nil || ok || v != 0 || blob != nil {
		t.Fatalf("LatestModel of none = %d, %d bytes, %v, %v", v, len(blob), ok, err)
	}
	big := make([]byte, 5<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	v1, v2, v0 := etaVersion, etaVersion+86400, etaVersion-86400
	if err := s.SaveModel(ctx, v1, big); err != nil {
		t.Fatal(err)
	}
	if v, blob, ok, err := s.LatestModel(ctx); err != nil || !ok || v != v1 || !bytes.Equal(blob, big) {
		t.Fatalf("LatestModel = %d, %d bytes (equal %v), %v, %v; want %d and the 5 MB blob", v, len(blob), bytes.Equal(blob, big), ok, err, v1)
	}
	for _, m := range []struct {
		v    uint32
		blob string
	}{{v2, "model two"}, {v0, "older model, saved last"}} {
		if err := s.SaveModel(ctx, m.v, []byte(m.blob)); err != nil {
			t.Fatal(err)
		}
	}
	if v, blob, ok, err := s.LatestModel(ctx); err != nil || !ok || v != v2 || string(blob) != "model two" {
		t.Fatalf("LatestModel = %d, %q, %v, %v; want %d, model two", v, blob, ok, err, v2)
	}
}

// TestWritePredictionsRejects: a record that could not be read back fails
// the write before anything is stored.
func TestWritePredictionsRejects(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	f := func(name string, mod func(*eta.Record), want string) {
		t.Helper()
		r := etaC1
		mod(&r)
		err := s.WritePredictions(ctx, []eta.Record{etaC2, r})
		if !retry.IsPermanent(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a permanent error saying %q", name, err, want)
		}
	}
	f("no tracking number", func(r *eta.Record) { r.TrackingNumber = "" }, "prediction 2 of 2 (\"\"): empty tracking number")
	f("unknown status", func(r *eta.Record) { r.Status = schemas.StatusUnknown }, "invalid status 0")
	f("unknown milestone", func(r *eta.Record) { r.Milestone = 0 }, "invalid milestone 0")
	f("unknown basis", func(r *eta.Record) { r.Basis = 200 }, "invalid basis 200")
	if got, err := s.ETAs(ctx, []string{etaC.tn}); err != nil || len(got) != 0 {
		t.Errorf("a rejected write stored %v, %v", got, err)
	}
}

// TestETABeforeMigration: on a database migrated by a release before 004,
// the ETA calls fail with a permanent error saying what to do.
func TestETABeforeMigration(t *testing.T) {
	ctx := context.Background()
	conn, db := chtest.Conn(t)
	migs, err := schemas.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migs {
		if m.Version == 4 || m.Version == 5 { // the ETA and alerts tables
			continue
		}
		for _, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := Open(ctx, Config{Addr: chtest.Server(t), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(call, table string, err error) {
		t.Helper()
		t.Logf("%s: %v", call, err)
		want := db + "." + table + " does not exist"
		if !retry.IsPermanent(err) || !errors.Is(err, ErrSchemaMismatch) || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), "apply the migrations (migrate)") {
			t.Errorf("%s: %v, want a permanent ErrSchemaMismatch saying %q", call, err, want)
		}
	}
	check("WritePredictions", historyTable, s.WritePredictions(ctx, etaBatches[0]))
	check("WriteOutcomes", outcomesTable, s.WriteOutcomes(ctx, etaOutcomeBatches[0]))
	_, err = s.ETAs(ctx, []string{"ZA1"})
	check("ETAs", latestTable, err)
	check("EachPrediction", latestTable, s.EachPrediction(ctx, func(eta.Record) error { return nil }))
	check("Deliveries", historyTable, s.Deliveries(ctx, 0, etaAt(100), func(eta.Delivery) error { return nil }))
	_, err = s.Accuracy(ctx, AccuracyQuery{From: day0, To: day0})
	check("Accuracy", historyTable, err)
	check("SaveModel", modelsTable, s.SaveModel(ctx, 1, []byte("x")))
	_, _, _, err = s.LatestModel(ctx)
	check("LatestModel", modelsTable, err)
}

// etaValuesSQL renders rows as INSERT ... VALUES text into table, for
// libchdb, through cols as the store's batches are.
func etaValuesSQL[R any](table string, cols []etaColumn[R], rows []R) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, columnNames(cols))
	vals := make([]reflect.Value, len(cols))
	for j, c := range cols {
		vals[j] = reflect.ValueOf(c.values(rows))
	}
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			switch v := vals[j].Index(i).Interface().(type) {
			case string:
				b.WriteString(quote(v))
			case uint64:
				b.WriteString(strconv.FormatUint(v, 10))
			case time.Time:
				b.WriteString(dateTime(v.Unix()))
			default:
				panic(fmt.Sprintf("etaValuesSQL: %T", v))
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// describeTable returns the "name type" lines of table on ClickHouse 18.16.
func describeTable(t *testing.T, s *Store, table string) []string {
	t.Helper()
	var out []string
	for _, line := range nativeTSV(t, s.Conn(), "SELECT name, type FROM system.columns WHERE database = "+quote(s.cfg.Database)+" AND table = "+quote(table)) {
		out = append(out, strings.Replace(line, "\t", " ", 1))
	}
	return out
}

// TestETAColumnsMatchMigration checks recordColumns, outcomeColumns and
// modelColumns against the tables 004 creates, on ClickHouse 18.16 and on
// current ClickHouse.
func TestETAColumnsMatchMigration(t *testing.T) {
	s := newStore(t)
	db, name := migrateCurrent(t)
	for table, want := range etaSchema {
		if got := describeTable(t, s, table); !slices.Equal(got, want) {
			t.Errorf("%s on 18.16 has columns %q, the store writes %q", table, got, want)
		}
		var got []string
		for _, line := range currentTSV(t, db, name, "SELECT name, type FROM system.columns WHERE database = '"+name+"' AND table = '"+table+"'") {
			got = append(got, strings.Replace(line, "\t", " ", 1))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s on current ClickHouse has columns %q, the store writes %q", table, got, want)
		}
	}
}

// TestETASQLOnCurrentClickHouse writes the test predictions and outcomes,
// twice, on ClickHouse 18.16 through the store and on current ClickHouse
// (libchdb) as VALUES, and runs the lookup, export, deliveries, accuracy
// and model queries on both: the answers must be equal, and the accuracy
// the hand-worked one.
func TestETASQLOnCurrentClickHouse(t *testing.T) {
	db, name := migrateCurrent(t)
	s := newStore(t)
	ctx := context.Background()
	for range 2 {
		writeETAs(t, s)
		for _, b := range etaBatches {
			var history []eta.Record
			for _, r := range b {
				if r.Basis != eta.BasisDelivered {
					history = append(history, r)
				}
			}
			if len(history) > 0 {
				if err := db.Exec(etaValuesSQL(name+"."+historyTable, recordColumns, history)); err != nil {
					t.Fatalf("on current ClickHouse: %v", err)
				}
			}
			if err := db.Exec(etaValuesSQL(name+"."+latestTable, recordColumns, b)); err != nil {
				t.Fatalf("on current ClickHouse: %v", err)
			}
		}
		for _, b := range etaOutcomeBatches {
			if err := db.Exec(etaValuesSQL(name+"."+outcomesTable, outcomeColumns, b)); err != nil {
				t.Fatalf("on current ClickHouse: %v", err)
			}
		}
	}
	if err := s.SaveModel(ctx, etaVersion, []byte("model\tone")); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO " + name + "." + modelsTable + " (version, built_at, model) VALUES (" + dateTime(int64(etaVersion)) + ", now(), 'model\\tone')"); err != nil {
		t.Fatal(err)
	}

	from, to := dateTime(day0.Unix()), dateTime(day0.AddDate(0, 0, 10).Unix())
	rounded := func(sql string) string {
		return "SELECT day, milestone, predictions, round(mae_hours, 4), round(within_24h, 4), round(same_day, 4), round(coverage, 4), " +
			"round(bias_hours, 4), promised_predictions, round(promised_mae_hours, 4), round(promised_within_24h, 4) FROM (" + sql + ") ORDER BY day, milestone"
	}
	// The visits as sorted text: groupArray gives them in no order.
	flat := "SELECT o_tn, carrier, service, lane, `toUInt32(start)`, `toUInt32(delivered)`, " +
		"arrayStringConcat(arraySort(arrayMap((a, m) -> concat(toString(toUInt32(a)), ':', m), visit_at, visit_milestone)), ',') FROM (" +
		strings.NewReplacer("%FROM%", from, "%TO%", to, "%WHERE%", "1").Replace(deliveriesSQL) + ")"
	at := func(h float64) string { return strconv.FormatUint(uint64(etaAt(h)), 10) }
	queries := []struct{ what, sql, want string }{
		{"accuracy", rounded(AccuracySQL(from, to, "1", false)),
			d(2) + "\t\t5\t6.8\t0.8\t0.6\t0.8\t4.4\t3\t18.6667\t0.6667\n" + d(5) + "\t\t1\t4\t1\t1\t1\t-4\t0\t0\t0"},
		{"accuracy by milestone", rounded(AccuracySQL(from, to, "carrier = 'dhl'", true)),
			d(2) + "\tin_transit\t1\t25\t0\t0\t1\t25\t0\t0\t0\n" + d(2) + "\tpicked_up\t1\t5\t1\t1\t1\t-5\t0\t0\t0"},
		{"deliveries", flat, "ZA1\t顺丰\t标准快递\tCN-US\t" + at(0) + "\t" + at(48) + "\t" + at(0) + ":picked_up," + at(20) + ":in_transit," + at(30) + ":in_transit_destination\n" +
			// B's visit at 70 h is after its delivery: Deliveries drops it.
			"ZB2\tdhl\texpress\tCN-GB\t" + at(10) + "\t" + at(65) + "\t" + at(10) + ":picked_up," + at(30) + ":in_transit," + at(70) + ":in_transit\n" +
			"ZD4\tups\teconomy\tDE-FR\t" + at(2) + "\t" + at(125) + "\t\n" +
			"ZE5\tups\texpress\tDE-FR\t" + at(90) + "\t" + at(130) + "\t" + at(100) + ":out_for_delivery"},
		{"etas", etasSQL([]string{"ZC3", "ZB2", "nope"}) + " ORDER BY tracking_number", ""},
		{"export", eachPredictionSQL + " ORDER BY tracking_number", ""},
		{"latest model", latestModelSQL, fmt.Sprintf("%d\tmodel\\tone", etaVersion)},
	}
	for _, q := range queries {
		// TabSeparated escapes quotes, nativeTSV does not.
		cur := strings.ReplaceAll(strings.Join(currentTSV(t, db, name, q.sql), "\n"), `\'`, "'")
		old := strings.Join(nativeTSV(t, s.Conn(), q.sql), "\n")
		if cur != old {
			t.Errorf("%s differs:\ncurrent %q\n18.16   %q\n%s", q.what, cur, old, q.sql)
		}
		if q.want != "" && old != q.want {
			t.Errorf("%s:\n got %q\nwant %q", q.what, old, q.want)
		}
		if old == "" {
			t.Errorf("%s has no rows: the test checks nothing", q.what)
		}
	}
}

// TestETAUnreadable: a milestone or basis this build does not know, as
// another shiplens version could have written, fails the reads that meet it
// with a permanent error naming the shipment and the value.
func TestETAUnreadable(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	writeETAs(t, s)
	for _, table := range []string{historyTable, latestTable} {
		b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table+" (tracking_number, status, milestone, as_of, basis, rev)")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append("ZA1", "in_transit", "teleported", ts(etaAt(40)), "oracle", uint64(9)); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(call string, err error, want ...string) {
		t.Helper()
		t.Logf("%s: %v", call, err)
		if !retry.IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent error", call, err)
		}
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to say %q", call, err, w)
			}
		}
	}
	check("Deliveries", s.Deliveries(ctx, etaAt(0), etaAt(240), func(eta.Delivery) error { return nil }), `"ZA1"`, `"teleported"`)
	_, err := s.ETAs(ctx, []string{"ZA1"})
	check("ETAs", err, `"ZA1"`, `"teleported"`)
	// Accuracy reads the milestone as a label: the row counts under it.
	rows, err := s.Accuracy(ctx, AccuracyQuery{From: day0, To: day0.AddDate(0, 0, 9), ByMilestone: true})
	if err != nil || len(rows) != 5 || rows[3].Milestone != "teleported" || rows[3].Predictions != 1 {
		t.Errorf("Accuracy by milestone = %+v, %v; want a row for teleported", rows, err)
	}
}
