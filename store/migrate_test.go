package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/chdb/chdbtest"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/schemas"
)

// oldColumns are the columns of 001's shipments table, which the previous
// release wrote: factColumns without those 002 added.
var oldColumns = func() []column {
	added := map[string]bool{"customs_held_at": true, "delivery_failed_at": true, "returned_at": true, "other_exception_at": true, "closed": true,
		"locale": true, "locale_at": true, "locale_key": true} // 006
	var out []column
	for _, c := range factColumns {
		if !added[c.name] {
			out = append(out, c)
		}
	}
	return out
}()

// upgradeSet is what the previous release wrote into shipments: every
// version of five shipments, old versions last. U5's older versions say it
// was delivered on day 4; a late event moved its delivery to day 2.
func upgradeSet() (written []Fact, final map[string]analytics.Shipment) {
	hour := func(h float64) time.Time { return day0.Add(time.Duration(h * float64(time.Hour))) }
	dhl, ups := label{"dhl", "express", "acme", "CN-US"}, label{"ups", "standard", "zeta", "CN-GB"}
	promised := func(e schemas.Event, h float64) schemas.Event { e.PromisedAt = hour(h); return e }
	four, final := versions(4, []schemas.Event{
		// delivered day 2 on time, transit 50 h, customs 10 h
		promised(dhl.event("U1", "u1a", schemas.PickedUp, hour(0)), 60),
		dhl.event("U1", "u1b", schemas.CustomsClearance, hour(20)),
		dhl.event("U1", "u1c", schemas.CustomsReleased, hour(30)),
		dhl.event("U1", "u1d", schemas.Delivered, hour(50)),
		// held in customs on day 1, open
		dhl.event("U2", "u2a", schemas.PickedUp, hour(0)),
		dhl.event("U2", "u2b", schemas.InTransit, hour(5)),
		dhl.event("U2", "u2c", schemas.CustomsHeld, hour(40)),
		// delivered day 4, then a late event: day 2, transit 60 h
		dhl.event("U5", "u5a", schemas.PickedUp, hour(0)),
		dhl.event("U5", "u5b", schemas.Delivered, hour(100)),
		dhl.event("U5", "u5c", schemas.Delivered, hour(60)),
	})
	six, final6 := versions(6, []schemas.Event{
		// delivery failed on day 1, delivered day 3 late, transit 75 h
		promised(ups.event("U3", "u3a", schemas.PickedUp, hour(0)), 50),
		ups.event("U3", "u3b", schemas.DeliveryFailed, hour(30)),
		ups.event("U3", "u3c", schemas.Delivered, hour(75)),
		// returned on day 3
		ups.event("U4", "u4a", schemas.PickedUp, hour(0)),
		ups.event("U4", "u4b", schemas.Returned, hour(90)),
	})
	for tn, st := range final6 {
		final[tn] = st
	}
	written = append(four, six...)
	slices.Reverse(written)
	return written, final
}

// upgradeChecks are queries whose answers after the upgrade are worked out
// by hand, with those answers (TabSeparated lines).
func upgradeChecks() []struct{ sql, want string } {
	at := func(h int64) int64 { return day0.Unix() + h*3600 }
	q := ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 9)}
	counts, transit, customs := scorecardSQL(q)
	return []struct{ sql, want string }{{
		// One row per shipment, its latest version; closed and the exception
		// types derived as 002 says: a type only from the latest status,
		// else "exception".
		"SELECT tracking_number, partition, version, status, closed, toUInt32(customs_held_at), toUInt32(delivery_failed_at), " +
			"toUInt32(returned_at), toUInt32(other_exception_at) FROM " + factsTable + " FINAL ORDER BY tracking_number",
		fmt.Sprintf("U1\t4\t4\tdelivered\t1\t0\t0\t0\t0\nU2\t4\t3\tcustoms_held\t0\t%d\t0\t0\t0\nU3\t6\t3\tdelivered\t1\t0\t0\t0\t%d\n"+
			"U4\t6\t2\treturned\t1\t0\t0\t%d\t0\nU5\t4\t3\tdelivered\t1\t0\t0\t0\t0", at(40), at(30), at(90)),
	}, {
		// dhl: U1 and U5 delivered (one promise, on time), U2's exception;
		// ups: U3 delivered late, U3's and U4's exceptions.
		counts, "dhl\tCN-US\t2\t1\t1\t1\nups\tCN-GB\t1\t1\t0\t2",
	}, {
		// Sketch buckets floor(ln(h) / ln(1.02)): 50 h → 197, 60 h → 206,
		// 75 h → 218, 10 h → 116.
		transit, "dhl\tCN-US\t[197,206]\t[1,1]\nups\tCN-GB\t[218]\t[1]",
	}, {
		customs, "dhl\tCN-US\t[116]\t[1]\nups\tCN-GB\t[]\t[]",
	}, {
		SeriesSQL("delivered_per_day", q.table(), q.where()), d(2) + "\t2\n" + d(3) + "\t1",
	}, {
		// U2 held on day 1, U3 failed on day 1 (counted as exception), U4 returned on day 3
		SeriesSQL("exceptions_per_day", q.table(), q.where()), d(1) + "\t1\t0\t0\t1\n" + d(2) + "\t0\t0\t0\t0\n" + d(3) + "\t0\t0\t1\t0",
	}, {
		// nothing on day 4, where U5's old version was delivered
		"SELECT count() FROM " + daysTable + " WHERE day = toDate('" + d(4) + "')", "0",
	}}
}

// TestUpgradeFrom001 migrates a database that the previous release wrote
// (migration 001 only, its shipments table holding every version) and
// checks that 002 copies the latest version of each shipment into the
// shipment facts and builds the aggregates of those versions, once however
// often it runs, on ClickHouse 18.16 and on current ClickHouse.
func TestUpgradeFrom001(t *testing.T) {
	migs, err := schemas.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) < 3 || migs[0].Version != 1 || migs[1].Version != 2 || migs[2].Version != 3 {
		t.Fatalf("migrations %+v, want 001 and 002 first", migs)
	}
	written, final := upgradeSet()
	now := time.Unix(1790000000, 0).UTC()
	checks := upgradeChecks()

	// ClickHouse 18.16, as the previous release left it.
	ctx := context.Background()
	conn, db := chtest.Conn(t)
	for _, stmt := range migs[0].Statements {
		if err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Exec(ctx, migrationsTable); err != nil {
		t.Fatal(err)
	}
	if err := record(ctx, conn, migs[0].Version, migs[0].Name); err != nil {
		t.Fatal(err)
	}
	var old strings.Builder
	for _, c := range oldColumns {
		fmt.Fprintf(&old, "%s %s\n", c.name, c.typ)
	}
	if got := strings.Join(nativeTSV(t, conn, "SELECT name, type FROM system.columns WHERE database = '"+db+"' AND table = 'shipments'"), "\n") + "\n"; got != strings.ReplaceAll(old.String(), " ", "\t") {
		t.Fatalf("001's shipments has columns\n%s\nthe test writes\n%s", got, old.String())
	}
	names := make([]string, len(oldColumns))
	for i, c := range oldColumns {
		names[i] = c.name
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO shipments ("+strings.Join(names, ", ")+")")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range oldColumns {
		if err := batch.Column(i).Append(c.values(written, now)); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	cfg := Config{Addr: chtest.Server(t), Database: db}
	applied, err := Migrate(ctx, cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%03d_%s", migs[1].Version, migs[1].Name); len(applied) == 0 || applied[0] != want || !strings.Contains(log.String(), want) {
		t.Fatalf("applied %v, log %q; want %s first", applied, log.String(), want)
	}
	check := func(when string) {
		t.Helper()
		for _, c := range checks {
			if got := strings.Join(nativeTSV(t, conn, c.sql), "\n"); got != c.want {
				t.Errorf("%s, on 18.16:\n%s\ngot\n%s\nwant\n%s", when, c.sql, got, c.want)
			}
		}
	}
	check("after the upgrade")
	if again, err := Migrate(ctx, cfg, nil); err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, %v", again, err)
	}
	// 002 and 003 again, as after a failure before they were recorded.
	for _, stmt := range slices.Concat(migs[1].Statements, migs[2].Statements) {
		if err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	check("after 002 ran twice")

	// The store reads the upgraded database: the scorecard, and the states.
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 9)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dhl/CN-US d=2 p=1 o=1 t=~50,~60 c=~10,~10 e=1", "ups/CN-GB d=1 p=1 o=0 t=~75,~75 c=-,- e=2"}
	if got := dumpRows(rows); len(got) != 2 || !similar(got[0], want[0]) || !similar(got[1], want[1]) {
		t.Errorf("scorecard after the upgrade %q, want %q", got, want)
	}
	// 001 did not keep the exception types: U3's failed delivery comes back
	// as an exception, the other states in full.
	u3 := final["U3"]
	u3.TypeAt = [analytics.NumExceptionTypes]uint32{3: u3.TypeAt[1]}
	final["U3"] = u3
	restored := map[string]analytics.Shipment{}
	for _, part := range []int{4, 6} {
		if err := s.Restore(ctx, part, analytics.DefaultRetention, func(tn string, st analytics.Shipment) { restored[tn] = st }); err != nil {
			t.Fatal(err)
		}
	}
	if len(restored) != len(final) {
		t.Errorf("restored %d shipments, want %d", len(restored), len(final))
	}
	for tn, st := range final {
		if d := diff(t, restored[tn], st); d != "" {
			t.Errorf("%s restored with %s", tn, d)
		}
	}

	// Current ClickHouse, the same way.
	cur, name := chdbtest.Database(t)
	for _, stmt := range append([]string{migrationsTable}, migs[0].Statements...) {
		if err := cur.Exec(qualify(name, stmt)); err != nil {
			t.Fatalf("on current ClickHouse: %v\n%s", err, stmt)
		}
	}
	if err := cur.Exec(valuesSQL(name+".shipments", oldColumns, written, now)); err != nil {
		t.Fatalf("on current ClickHouse: %v", err)
	}
	for run := range 2 {
		for _, stmt := range slices.Concat(migs[1].Statements, migs[2].Statements) {
			if err := cur.Exec(qualify(name, stmt)); err != nil {
				t.Fatalf("002 on current ClickHouse: %v\n%s", err, stmt)
			}
		}
		for _, c := range checks {
			if got := strings.Join(currentTSV(t, cur, name, c.sql), "\n"); got != c.want {
				t.Errorf("after 002 ran %d times, on current ClickHouse:\n%s\ngot\n%s\nwant\n%s", run+1, c.sql, got, c.want)
			}
		}
	}
}
