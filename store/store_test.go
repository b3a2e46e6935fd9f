package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
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
	if !errors.Is(err, ErrNoDatabase) || !contains(err.Error(), "shiplens_missing_db") {
		t.Fatalf("err = %v, want ErrNoDatabase naming the database", err)
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

// daysOf returns the aggregates of facts' states, each counted as new: what
// the processor writes for shipments it has not written before.
func daysOf(facts []Fact) *analytics.Days {
	var d analytics.Days
	for i := range facts {
		c := facts[i].State.Contribution()
		d.Add(&c, 1)
	}
	return &d
}

// writeNew writes facts and their aggregates, as new shipments, with the
// positions advances; the aggregates first, as the processor does.
func writeNew(t *testing.T, s *Store, facts []Fact, advances ...analytics.Advance) {
	t.Helper()
	ctx := context.Background()
	if err := s.WriteDays(ctx, daysOf(facts), advances, false); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
}

// near reports whether got is within 1% of want.
func near(got *float64, want float64) bool {
	return got != nil && math.Abs(*got-want) <= 0.01*want
}

// TestWriteScorecard writes facts and aggregates in two rounds, as the
// processor does (a shipment first with an exception, then delivered), a
// retried write of the second round, and checks the scorecard against
// hand-computed figures.
func TestWriteScorecard(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	facts := sampleFacts()
	first := facts[2] // C before its delivery
	first.State = shipment(ev("c1", "4px", "CN-GB", schemas.PickedUp, 0), ev("c2", "4px", "CN-GB", schemas.Exception, 30))
	writeNew(t, s, []analytics.Fact{facts[0], facts[1], first}, analytics.Advance{Partition: 3, From: 0, To: 2}, analytics.Advance{Partition: 5, From: 0, To: 2})

	// The second round: C delivered. Its change, and the same write
	// retried, must count once; the newer version of C supersedes the old.
	var change analytics.Days
	from, to := first.State.Contribution(), facts[2].State.Contribution()
	change.Change(&from, &to)
	adv := []analytics.Advance{{Partition: 5, From: 2, To: 3}}
	for _, retried := range []bool{false, true} {
		if err := s.WriteDays(ctx, &change, adv, retried); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteFacts(ctx, facts); err != nil {
			t.Fatal(err)
		}
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
	if !near(dhl.TransitHoursP50, 50) || !near(dhl.TransitHoursP90, 100) || !near(dhl.CustomsDwellHoursP50, 30) || !near(dhl.CustomsDwellHoursP90, 30) {
		t.Fatalf("dhl quantiles p50 %v p90 %v customs %v %v", *dhl.TransitHoursP50, *dhl.TransitHoursP90, *dhl.CustomsDwellHoursP50, *dhl.CustomsDwellHoursP90)
	}
	if fpx.Carrier != "4px" || fpx.Lane != "CN-GB" || fpx.Delivered != 1 || fpx.Exceptions != 1 || fpx.OnTimeRate != nil || fpx.CustomsDwellHoursP50 != nil ||
		!near(fpx.TransitHoursP50, 80) {
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
	// Delivered on day 2 (A at 50h), day 3 (C at 80h) and day 4 (B at 100h);
	// first exceptions on day 0 (B held at 10h) and day 1 (C at 30h).
	rows, err = s.Scorecard(ctx, ScorecardQuery{From: day0.AddDate(0, 0, 4), To: day0.AddDate(0, 0, 4)})
	if err != nil || len(rows) != 1 || rows[0].Delivered != 1 || rows[0].Exceptions != 0 || !near(rows[0].TransitHoursP50, 100) {
		t.Fatalf("day 4: %+v %v", rows, err)
	}
	rows, err = s.Scorecard(ctx, ScorecardQuery{From: day0.AddDate(0, 0, 1), To: day0.AddDate(0, 0, 1)})
	if err != nil || len(rows) != 1 || rows[0].Carrier != "4px" || rows[0].Delivered != 0 || rows[0].Exceptions != 1 || rows[0].TransitHoursP50 != nil {
		t.Fatalf("day 1: %+v %v", rows, err)
	}
	if pos, err := s.Positions(ctx); err != nil || !maps.Equal(pos, map[int]int64{3: 2, 5: 3}) {
		t.Fatalf("positions %v, %v; want 3:2 5:3", pos, err)
	}
	if _, err := s.Scorecard(ctx, ScorecardQuery{From: day0.AddDate(0, 0, 1), To: day0}); err == nil {
		t.Fatal("accepted to before from")
	}
}

func TestScorecardQueryValidate(t *testing.T) {
	f := func(q ScorecardQuery, want string) {
		t.Helper()
		err := q.Validate()
		if got := fmt.Sprint(err); got != want {
			t.Fatalf("Validate(%+v) = %s, want %s", q, got, want)
		}
	}
	f(ScorecardQuery{From: day0, To: day0}, "<nil>")
	f(ScorecardQuery{From: day0}, "invalid scorecard query: from and to days are required")
	f(ScorecardQuery{To: day0}, "invalid scorecard query: from and to days are required")
	f(ScorecardQuery{From: day0.AddDate(0, 0, 1), To: day0}, "invalid scorecard query: to 2026-09-01 is before from 2026-09-02")
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
