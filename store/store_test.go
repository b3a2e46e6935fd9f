package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/chdb/chdbtest"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/schemas"
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, stop := range []func() error{chtest.Stop, chdbtest.Close} {
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

func TestParseAddr(t *testing.T) {
	f := func(in string, want Config, wantErr bool) {
		t.Helper()
		got, err := ParseAddr(in)
		if (err != nil) != wantErr {
			t.Fatalf("ParseAddr(%q) error = %v, want error %v", in, err, wantErr)
		}
		if err == nil && (got.Addr != want.Addr || got.Database != want.Database || got.User != want.User || got.Password != want.Password) {
			t.Fatalf("ParseAddr(%q) = %+v, want %+v", in, got, want)
		}
	}
	f("", Config{Addr: "127.0.0.1:9000", Database: "shiplens", User: "default"}, false)
	f("ch:9440", Config{Addr: "ch:9440", Database: "shiplens", User: "default"}, false)
	f("clickhouse://u:p%40ss@ch:9000/analytics", Config{Addr: "ch:9000", Database: "analytics", User: "u", Password: "p@ss"}, false)
	f("clickhouse://ch:9000", Config{Addr: "ch:9000", Database: "shiplens", User: "default"}, false)
	f("localhost", Config{}, true)
	f("http://ch:8123", Config{}, true)
	f("clickhouse://ch:9000/bad-name", Config{}, true)
	if _, err := ParseAddr("https://u:secret@ch:8443/x"); err == nil || contains(err.Error(), "secret") {
		t.Fatalf("error leaks the password or is nil: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// newStore migrates a fresh database and opens it.
func newStore(t *testing.T) *Store { return newStoreB(t) }

func newStoreB(t testing.TB) *Store {
	t.Helper()
	addr, db := chtest.DB(t)
	ctx := context.Background()
	cfg := Config{Addr: addr, Database: db}
	applied, err := Migrate(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 {
		t.Fatal("no migration applied to a new database")
	}
	again, err := Migrate(ctx, cfg, nil)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, err %v; want nothing", again, err)
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenMissingDatabase(t *testing.T) {
	addr := chtest.Server(t)
	_, err := Open(context.Background(), Config{Addr: addr, Database: "shiplens_missing_db"})
	if err == nil || !contains(err.Error(), "shiplens migrate") {
		t.Fatalf("err = %v, want a hint to run migrate", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, Config{Addr: "127.0.0.1:1", DialTimeout: time.Second})
	if err == nil {
		t.Fatal("opened an unreachable server")
	}
}

var day0 = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

func shipment(events ...schemas.Event) analytics.Shipment {
	var s analytics.Shipment
	for i := range events {
		s.Apply(&events[i])
	}
	return s
}

func ev(id, carrier, lane string, st schemas.Status, h float64) schemas.Event {
	return schemas.Event{EventID: id, TrackingNumber: "T" + id, Carrier: carrier, OriginCountry: lane[:2], DestinationCountry: lane[3:],
		Status: st, OccurredAt: day0.Add(time.Duration(h * float64(time.Hour)))}
}

func TestWriteRestoreScorecard(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	promised := ev("a1", "dhl", "CN-US", schemas.PickedUp, 0)
	promised.PromisedAt = day0.Add(60 * time.Hour)
	a := shipment(promised, ev("a2", "dhl", "CN-US", schemas.CustomsClearance, 20), ev("a3", "dhl", "CN-US", schemas.Delivered, 50))
	b := shipment(ev("b1", "dhl", "CN-US", schemas.PickedUp, 0), ev("b2", "dhl", "CN-US", schemas.CustomsHeld, 10),
		ev("b3", "dhl", "CN-US", schemas.CustomsReleased, 40), ev("b4", "dhl", "CN-US", schemas.Delivered, 100))
	b.EarlyOut = []uint32{1, 2} // exercise the array column
	c := shipment(ev("c1", "4px", "CN-GB", schemas.PickedUp, 0), ev("c2", "4px", "CN-GB", schemas.Exception, 30))
	facts := []analytics.Fact{{TrackingNumber: "A", Partition: 3, State: a}, {TrackingNumber: "B", Partition: 3, State: b}, {TrackingNumber: "C", Partition: 5, State: c}}
	if err := s.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
	// A retried batch must not double count.
	if err := s.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
	// A newer version of C supersedes the old one.
	c2 := c
	late := ev("c3", "4px", "CN-GB", schemas.Delivered, 80)
	c2.Apply(&late)
	if err := s.WriteFacts(ctx, []analytics.Fact{{TrackingNumber: "C", Partition: 5, State: c2}}); err != nil {
		t.Fatal(err)
	}

	got := map[string]analytics.Shipment{}
	if err := s.Restore(ctx, 3, func(tn string, st analytics.Shipment) { got[tn] = st }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("restored %d shipments of partition 3, want 2", len(got))
	}
	for tn, want := range map[string]analytics.Shipment{"A": a, "B": b} {
		g := got[tn]
		if g.Carrier() != want.Carrier() || g.Lane() != want.Lane() || g.Version != want.Version ||
			g.DeliveredAt != want.DeliveredAt || g.PromisedAt != want.PromisedAt || g.PromiseKey != want.PromiseKey ||
			g.CustomsOutAt != want.CustomsOutAt || g.LastKey != want.LastKey || g.LastStatus != want.LastStatus || len(g.EarlyOut) != len(want.EarlyOut) {
			t.Errorf("%s restored as %+v, want %+v", tn, g, want)
		}
		// Replaying an event into the restored state changes nothing.
		replay := ev(tn+"x", "dhl", "CN-US", schemas.Delivered, 100)
		if tn == "A" {
			replay = ev("a3", "dhl", "CN-US", schemas.Delivered, 50)
			if g.Apply(&replay) {
				t.Errorf("%s: replayed event changed the restored state", tn)
			}
		}
	}
	got = map[string]analytics.Shipment{}
	if err := s.Restore(ctx, 5, func(tn string, st analytics.Shipment) { got[tn] = st }); err != nil {
		t.Fatal(err)
	}
	if gc := got["C"]; gc.Version != c2.Version || !gc.Delivered() {
		t.Fatalf("restored C = %+v, want version %d delivered", got["C"], c2.Version)
	}

	rows, err := s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	dhl, fpx := rows[1], rows[0]
	if dhl.Carrier != "dhl" || dhl.Delivered != 2 || dhl.WithPromise != 1 || dhl.OnTime != 1 || *dhl.OnTimeRate != 1 || dhl.Exceptions != 1 {
		t.Fatalf("dhl row %+v", dhl)
	}
	near := func(got *float64, want float64) bool {
		return got != nil && (*got-want)/want < 0.01 && (want-*got)/want < 0.01
	}
	if !near(dhl.TransitHoursP50, 50) || !near(dhl.TransitHoursP90, 100) || !near(dhl.CustomsDwellHoursP50, 30) || !near(dhl.CustomsDwellHoursP90, 30) {
		t.Fatalf("dhl quantiles p50 %v p90 %v customs %v %v", *dhl.TransitHoursP50, *dhl.TransitHoursP90, *dhl.CustomsDwellHoursP50, *dhl.CustomsDwellHoursP90)
	}
	if fpx.Carrier != "4px" || fpx.Lane != "CN-GB" || fpx.Delivered != 1 || fpx.Exceptions != 1 || fpx.OnTimeRate != nil || fpx.CustomsDwellHoursP50 != nil {
		t.Fatalf("4px row %+v", fpx)
	}
	// Filters and ranges.
	rows, err = s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10), Carrier: "4px"})
	if err != nil || len(rows) != 1 || rows[0].Carrier != "4px" {
		t.Fatalf("carrier filter: %+v %v", rows, err)
	}
	rows, err = s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10), Lane: "CN-GB"})
	if err != nil || len(rows) != 1 || rows[0].Lane != "CN-GB" {
		t.Fatalf("lane filter: %+v %v", rows, err)
	}
	// Delivered on day 2 (A at 50h), day 3 (C at 80h) and day 4 (B at 100h).
	rows, err = s.Scorecard(ctx, ScorecardQuery{From: day0.AddDate(0, 0, 4), To: day0.AddDate(0, 0, 4)})
	if err != nil || len(rows) != 1 || rows[0].Delivered != 1 || rows[0].Exceptions != 0 {
		t.Fatalf("day 4: %+v %v", rows, err)
	}
	if _, err := s.Scorecard(ctx, ScorecardQuery{From: day0.AddDate(0, 0, 1), To: day0}); err == nil {
		t.Fatal("accepted --to before --from")
	}
}

func TestOpenShipments(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	facts := sampleFacts() // A and B delivered dhl, C delivered 4px
	open := shipment(ev("d1", "dhl", "CN-US", schemas.PickedUp, 0), ev("d2", "dhl", "CN-US", schemas.InTransit, 30))
	returned := shipment(ev("e1", "dhl", "CN-US", schemas.PickedUp, 0), ev("e2", "dhl", "CN-US", schemas.Returned, 30))
	old := shipment(ev("f1", "dhl", "CN-US", schemas.PickedUp, -24*90))
	facts = append(facts, analytics.Fact{TrackingNumber: "D", State: open}, analytics.Fact{TrackingNumber: "E", State: returned}, analytics.Fact{TrackingNumber: "F", State: old})
	if err := s.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenShipments(ctx, "dhl", day0.AddDate(0, 0, -30))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "D" {
		t.Fatalf("open dhl shipments = %v, want [D]", got)
	}
}
