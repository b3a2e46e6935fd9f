package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/chdb/chdbtest"
	"github.com/shiplens/shiplens/schemas"
)

// valuesSQL renders facts as INSERT ... VALUES text, for engines reached
// without the native protocol (libchdb). It reads the same columns as
// WriteFacts' batch.
func valuesSQL(db string, facts []Fact, now time.Time) string {
	names := make([]string, len(factColumns))
	cols := make([]reflect.Value, len(factColumns))
	for j, c := range factColumns {
		names[j], cols[j] = c.name, reflect.ValueOf(c.values(facts, now))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s.shipments (%s) VALUES ", db, strings.Join(names, ", "))
	for i := range facts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, c := range factColumns {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(literal(c.typ, cols[j].Index(i).Interface()))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// literal renders v, a value of a column of ClickHouse type typ, as SQL.
func literal(typ string, v any) string {
	switch v := v.(type) {
	case string:
		return quote(v)
	case uint8, uint16, uint32, int16, int64:
		return fmt.Sprint(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []int64:
		parts := make([]string, len(v))
		for k, x := range v {
			parts[k] = strconv.FormatInt(x, 10)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case time.Time:
		if typ == "Date" {
			return fmt.Sprintf("toDate('%s')", v.Format(time.DateOnly))
		}
		return fmt.Sprintf("toDateTime(%d, 'UTC')", v.Unix())
	}
	panic(fmt.Sprintf("literal: unhandled %s value %T", typ, v))
}

// TestSQLOnCurrentClickHouse applies the migrations on current ClickHouse
// (libchdb), checks the table against factColumns, writes the same facts as
// the 18.16 tests, and checks that the restore query gives back the states
// in full (as TestRestore does on 18.16) and the scorecard the same rows as
// on 18.16.
func TestSQLOnCurrentClickHouse(t *testing.T) {
	db, name := chdbtest.Database(t)
	migs, err := schemas.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(strings.Replace(migrationsTable, "EXISTS ", "EXISTS "+name+".", 1)); err != nil {
		t.Fatalf("schema_migrations on current ClickHouse: %v", err)
	}
	for _, m := range migs {
		for _, stmt := range m.Statements {
			qualified := strings.Replace(stmt, "CREATE TABLE IF NOT EXISTS ", "CREATE TABLE IF NOT EXISTS "+name+".", 1)
			if err := db.Exec(qualified); err != nil {
				t.Fatalf("migration %03d_%s on current ClickHouse: %v", m.Version, m.Name, err)
			}
		}
	}
	if got := describe(t, db, name); got != wantColumns() {
		t.Fatalf("shipments on current ClickHouse has columns\n%s\nfactColumns are\n%s", got, wantColumns())
	}
	facts := sampleFacts()
	insert := valuesSQL(name, facts, time.Unix(1790000000, 0).UTC())
	if err := db.Exec(insert); err != nil {
		t.Fatalf("insert on current ClickHouse: %v", err)
	}
	if err := db.Exec(insert); err != nil { // a retried batch
		t.Fatalf("second insert on current ClickHouse: %v", err)
	}
	qualify := func(sql string) string { return strings.ReplaceAll(sql, "FROM shipments", "FROM "+name+".shipments") }

	q := ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)}
	delivered, exceptions, _ := scorecardSQL(q)
	var card analytics.Scorecard
	out, err := db.Query(qualify(delivered), "TabSeparated")
	if err != nil {
		t.Fatalf("scorecard query on current ClickHouse: %v", err)
	}
	for _, line := range lines(out) {
		f := strings.Split(line, "\t")
		k := analytics.ScoreKey{Carrier: f[0], Lane: f[1]}
		n, _ := strconv.ParseInt(f[7], 10, 64)
		card.AddDelivered(k, n, int16(atoi(f[2])), f[3] == "1", int16(atoi(f[4])), f[5] == "1", f[6] == "1")
	}
	out, err = db.Query(qualify(exceptions), "TabSeparated")
	if err != nil {
		t.Fatalf("exceptions query on current ClickHouse: %v", err)
	}
	for _, line := range lines(out) {
		f := strings.Split(line, "\t")
		card.AddExceptions(analytics.ScoreKey{Carrier: f[0], Lane: f[1]}, int64(atoi(f[2])))
	}
	current := card.Rows()

	s := newStore(t)
	if err := s.WriteFacts(context.Background(), facts); err != nil {
		t.Fatal(err)
	}
	old, err := s.Scorecard(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dumpRows(current)) != fmt.Sprint(dumpRows(old)) || len(old) != 2 {
		t.Fatalf("scorecards differ:\ncurrent %v\n18.16   %v", dumpRows(current), dumpRows(old))
	}

	// The states of TestRestore come back in full.
	want := build(journeys())
	var versions []Fact
	for _, b := range want {
		versions = append(versions, b.versions...)
	}
	slices.Reverse(versions)
	if err := db.Exec(valuesSQL(name, versions, time.Unix(1790000000, 0).UTC())); err != nil {
		t.Fatalf("insert on current ClickHouse: %v", err)
	}
	// Times as UTC text, so that they parse whatever the engine's time zone.
	out, err = db.Query(qualify(restoreSQL(restorePartition, analytics.DefaultRetention))+" SETTINGS session_timezone = 'UTC'", "TabSeparated")
	if err != nil {
		t.Fatalf("restore query on current ClickHouse: %v", err)
	}
	checkRestored(t, restoreTSV(t, out), want)
}

// restoreTSV reads the TabSeparated output of restoreSQL as Restore reads
// the native one: through the scan functions of restoredColumns.
func restoreTSV(t *testing.T, out string) map[string]analytics.Shipment {
	t.Helper()
	got := map[string]analytics.Shipment{}
	dest := make([]any, len(restoredColumns))
	sets := make([]func(*restoring), len(restoredColumns))
	for i, c := range restoredColumns {
		dest[i], sets[i] = c.scan()
	}
	unescape := strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n", `\'`, "'")
	for _, line := range lines(out) {
		f := strings.Split(line, "\t")
		if len(f) != len(dest) {
			t.Fatalf("restore row has %d fields, want %d: %q", len(f), len(dest), line)
		}
		for i, d := range dest {
			var err error
			switch d := d.(type) {
			case *string:
				*d = unescape.Replace(f[i])
			case *time.Time:
				*d, err = time.ParseInLocation(time.DateTime, f[i], time.UTC)
			case *int64:
				*d, err = strconv.ParseInt(f[i], 10, 64)
			case *uint32:
				var u uint64
				u, err = strconv.ParseUint(f[i], 10, 32)
				*d = uint32(u)
			case *[]int64:
				*d = nil
				if in := strings.Trim(f[i], "[]"); in != "" {
					for _, x := range strings.Split(in, ",") {
						n, perr := strconv.ParseInt(x, 10, 64)
						*d, err = append(*d, n), errors.Join(err, perr)
					}
				}
			default:
				t.Fatalf("restoreTSV: unhandled column %s of %T", restoredColumns[i].name, d)
			}
			if err != nil {
				t.Fatalf("column %s of %q: %v", restoredColumns[i].name, line, err)
			}
		}
		var r restoring
		for _, set := range sets {
			set(&r)
		}
		st, err := r.shipment()
		if err != nil {
			t.Fatal(err)
		}
		got[r.trackingNumber] = st
	}
	return got
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func dumpRows(rows []analytics.ScoreRow) []string {
	var out []string
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'g', 6, 64)
	}
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s/%s d=%d p=%d o=%d t=%s,%s c=%s,%s e=%d", r.Carrier, r.Lane, r.Delivered, r.WithPromise, r.OnTime,
			f(r.TransitHoursP50), f(r.TransitHoursP90), f(r.CustomsDwellHoursP50), f(r.CustomsDwellHoursP90), r.Exceptions))
	}
	return out
}

// sampleFacts are three shipments on two lanes: one on time through customs,
// one held in customs, one with an exception.
func sampleFacts() []analytics.Fact {
	promised := ev("a1", "dhl", "CN-US", schemas.PickedUp, 0)
	promised.PromisedAt = day0.Add(60 * time.Hour)
	a := shipment(promised, ev("a2", "dhl", "CN-US", schemas.CustomsClearance, 20), ev("a3", "dhl", "CN-US", schemas.Delivered, 50))
	b := shipment(ev("b1", "dhl", "CN-US", schemas.PickedUp, 0), ev("b2", "dhl", "CN-US", schemas.CustomsHeld, 10),
		ev("b3", "dhl", "CN-US", schemas.CustomsReleased, 40), ev("b4", "dhl", "CN-US", schemas.Delivered, 100))
	c := shipment(ev("c1", "4px", "CN-GB", schemas.PickedUp, 0), ev("c2", "4px", "CN-GB", schemas.Exception, 30), ev("c3", "4px", "CN-GB", schemas.Delivered, 80))
	return []analytics.Fact{{TrackingNumber: "A", Partition: 3, State: a}, {TrackingNumber: "B", Partition: 3, State: b}, {TrackingNumber: "C", Partition: 5, State: c}}
}
