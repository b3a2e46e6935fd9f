package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/chdb"
	"github.com/shiplens/shiplens/internal/chdb/chdbtest"
	"github.com/shiplens/shiplens/schemas"
)

// tableName matches the tables of the migrations and queries where SQL names
// them, so that qualify can put a database in front.
var tableName = regexp.MustCompile(`\b(FROM|INTO|JOIN|EXISTS|TABLE|TO)(\s+)(shipments|shipment_facts|shipment_days|carrier_days_mv|carrier_days|schema_migrations|eta_latest|eta_history|eta_outcomes|eta_models|eta_progress|alerts|notifications|pipeline_stats)\b`)

// qualify names every shiplens table in sql as db.table: libchdb's shared
// connection has no database of the test's own.
func qualify(db, sql string) string { return tableName.ReplaceAllString(sql, "${1}${2}"+db+".${3}") }

// migrateCurrent creates a database on current ClickHouse (libchdb) and
// applies every migration to it, as Migrate does on a server.
func migrateCurrent(t *testing.T) (*chdb.DB, string) {
	t.Helper()
	db, name := chdbtest.Database(t)
	migs, err := schemas.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(qualify(name, migrationsTable)); err != nil {
		t.Fatalf("schema_migrations on current ClickHouse: %v", err)
	}
	for _, m := range migs {
		for _, stmt := range m.Statements {
			if err := db.Exec(qualify(name, stmt)); err != nil {
				t.Fatalf("migration %03d_%s on current ClickHouse: %v\n%s", m.Version, m.Name, err, stmt)
			}
		}
	}
	return db, name
}

// valuesSQL renders facts as INSERT ... VALUES text into table, for engines
// reached without the native protocol (libchdb). It reads cols (usually
// factColumns) as WriteFacts' batch does.
func valuesSQL(table string, cols []column, facts []Fact, now time.Time) string {
	names := make([]string, len(cols))
	values := make([]reflect.Value, len(cols))
	for j, c := range cols {
		names[j], values[j] = c.name, reflect.ValueOf(c.values(facts, now))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(names, ", "))
	for i := range facts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, c := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(literal(c.typ, values[j].Index(i).Interface()))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// daysValuesSQL renders the rows WriteDays inserts for days and advances as
// INSERT ... VALUES text into table: one row per changed cell, with its
// sketch buckets as the Nested columns' arrays, and one position row per
// advance that moves.
func daysValuesSQL(table string, days *analytics.Days, advances []analytics.Advance) string {
	var rows []string
	row := func(day time.Time, k analytics.DayKey, c *analytics.DayCell, offset int64) {
		tb, tn := buckets(c.Transit)
		cb, cn := buckets(c.Customs)
		rows = append(rows, fmt.Sprintf("(%s, %s, %s, %s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s, %s, %s, %d)",
			literal("Date", day), quote(k.Carrier), quote(k.Lane), quote(k.Service), quote(k.Merchant),
			c.Delivered, c.WithPromise, c.OnTime, c.Exceptions, c.ByType[0], c.ByType[1], c.ByType[2], c.ByType[3],
			literal("", tb), literal("", tn), literal("", cb), literal("", cn), offset))
	}
	days.Each(func(k analytics.DayKey, c *analytics.DayCell) { row(time.Unix(int64(k.Day), 0).UTC(), k, c, 0) })
	for _, a := range advances {
		if a.To != a.From {
			row(time.Unix(0, 0).UTC(), analytics.DayKey{Lane: strconv.Itoa(a.Partition)}, &analytics.DayCell{}, a.To-a.From)
		}
	}
	return strings.Replace(insertDays, daysTable, table, 1) + " VALUES " + strings.Join(rows, ", ")
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
	case []int16:
		parts := make([]string, len(v))
		for k, x := range v {
			parts[k] = strconv.Itoa(int(x))
		}
		return "CAST([" + strings.Join(parts, ",") + "] AS Array(Int16))"
	case time.Time:
		if typ == "Date" {
			return fmt.Sprintf("toDate('%s')", v.Format(time.DateOnly))
		}
		return fmt.Sprintf("toDateTime(%d, 'UTC')", v.Unix())
	}
	panic(fmt.Sprintf("literal: unhandled %s value %T", typ, v))
}

// nativeTSV runs query through clickhouse-go and renders its rows as
// current ClickHouse's TabSeparated output does (times in UTC), so that
// the two engines' answers compare as text.
func nativeTSV(t *testing.T, conn driver.Conn, query string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("on ClickHouse 18.16: %v\n%s", err, query)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	escape := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)
	var out []string
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("on ClickHouse 18.16: %v\n%s", err, query)
		}
		f := make([]string, len(dest))
		for i, d := range dest {
			switch v := reflect.ValueOf(d).Elem().Interface().(type) {
			case string:
				f[i] = escape.Replace(v)
			case time.Time:
				if types[i].DatabaseTypeName() == "Date" {
					f[i] = v.Format(time.DateOnly)
				} else {
					f[i] = v.UTC().Format(time.DateTime)
				}
			case float64:
				f[i] = strconv.FormatFloat(v, 'g', -1, 64)
			case []int64:
				parts := make([]string, len(v))
				for k, x := range v {
					parts[k] = strconv.FormatInt(x, 10)
				}
				f[i] = "[" + strings.Join(parts, ",") + "]"
			case []int16:
				parts := make([]string, len(v))
				for k, x := range v {
					parts[k] = strconv.Itoa(int(x))
				}
				f[i] = "[" + strings.Join(parts, ",") + "]"
			default:
				f[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(f, "\t"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("on ClickHouse 18.16: %v\n%s", err, query)
	}
	return out
}

// currentTSV runs query on current ClickHouse, with its tables in database
// name, and returns its TabSeparated lines, times in UTC.
func currentTSV(t *testing.T, db *chdb.DB, name, query string) []string {
	t.Helper()
	out, err := db.Query(qualify(name, query)+" SETTINGS session_timezone = 'UTC'", "TabSeparated")
	if err != nil {
		t.Fatalf("on current ClickHouse: %v\n%s", err, query)
	}
	return lines(out)
}

// TestSQLOnCurrentClickHouse applies the migrations on current ClickHouse
// (libchdb), writes the same facts and aggregates there as through the
// store on ClickHouse 18.16, and runs every read query the store sends on
// both: the scorecard's three, every dashboard series, the restore and the
// lookup. Each must give the same rows on both engines; the restore must
// give back the journeys' states in full (as TestRestore does on 18.16) and
// keep what TestRestoreRetention keeps.
func TestSQLOnCurrentClickHouse(t *testing.T) {
	db, name := migrateCurrent(t)
	if got := describe(t, db, name); got != wantColumns() {
		t.Fatalf("%s on current ClickHouse has columns\n%s\nfactColumns are\n%s", factsTable, got, wantColumns())
	}
	s := newStore(t)
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if err := db.Exec(sql); err != nil {
			t.Fatalf("on current ClickHouse: %v", err)
		}
	}
	now := time.Unix(1790000000, 0).UTC()
	facts := sampleFacts()
	adv := []analytics.Advance{{Partition: 3, From: 0, To: 10}, {Partition: 5, From: 0, To: 7}}
	writeNew(t, s, facts, adv...)
	exec(valuesSQL(name+"."+factsTable, factColumns, facts, now))
	exec(valuesSQL(name+"."+factsTable, factColumns, facts, now)) // a retried batch
	exec(daysValuesSQL(name+"."+daysTable, daysOf(facts), adv))
	// More keys and days, in another part: the shipments of TestSeries, a
	// week later.
	series := seriesFacts(7)
	writeNew(t, s, series)
	exec(daysValuesSQL(name+"."+daysTable, daysOf(series), nil))

	want := build(journeys())
	var journeyFacts []Fact
	for _, b := range want {
		journeyFacts = append(journeyFacts, b.versions...)
	}
	slices.Reverse(journeyFacts)
	retained, _, kept := retentionSet()
	for _, f := range [][]Fact{journeyFacts, retained} {
		if err := s.WriteFacts(ctx, f); err != nil {
			t.Fatal(err)
		}
		exec(valuesSQL(name+"."+factsTable, factColumns, f, now))
	}

	type query struct {
		what, sql string
	}
	var queries []query
	for _, q := range []ScorecardQuery{
		{From: day0, To: day0.AddDate(0, 0, 20)},
		{From: day0.AddDate(0, 0, 2), To: day0.AddDate(0, 0, 3), Carrier: "dhl"},
		{From: day0, To: day0.AddDate(0, 0, 20), Lane: "CN-US", Service: "express", Merchant: "acme"},
		{From: day0, To: day0.AddDate(0, 0, 20), Merchant: "o'brien"},
	} {
		counts, transit, customs := scorecardSQL(q)
		queries = append(queries, query{"scorecard counts " + q.where(), counts}, query{"scorecard transit " + q.where(), transit},
			query{"scorecard customs " + q.where(), customs})
		for _, n := range slices.Sorted(maps.Keys(seriesSQL)) {
			queries = append(queries, query{n + " " + q.where(), SeriesSQL(n, q.table(), q.where())})
		}
	}
	if n := len(seriesSQL); n != 5 {
		t.Errorf("%d series, this test knows 5", n)
	}
	evicted := []string{"CLOSED_OLD", "CLOSED_LATE", "OPEN_LOST", "UNKNOWN", "OTHERPART", "it's"}
	queries = append(queries,
		query{"restore", restoreSQL(restorePartition, analytics.DefaultRetention)},
		query{"restore with retention", restoreSQL(retentionPartition, analytics.DefaultRetention)},
		query{"restore keeping open ones", restoreSQL(retentionPartition, analytics.Retention{Closed: 30 * 24 * time.Hour})},
		query{"lookup", lookupSQL(retentionPartition, evicted)},
	)
	results := map[string][]string{}
	for _, q := range queries {
		cur, old := currentTSV(t, db, name, q.sql), nativeTSV(t, s.Conn(), q.sql)
		if !strings.Contains(q.sql, "ORDER BY") {
			slices.Sort(cur)
			slices.Sort(old)
		}
		if !slices.Equal(cur, old) {
			t.Errorf("%s differs:\ncurrent %q\n18.16   %q\n%s", q.what, cur, old, q.sql)
		}
		if len(old) == 0 && !strings.Contains(q.what, "brien") {
			t.Errorf("%s has no rows on either engine: the test checks nothing\n%s", q.what, q.sql)
		}
		results[q.what] = cur
	}

	// The scorecard read off current ClickHouse's rows is the store's.
	q := ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 20)}
	var card analytics.Scorecard
	for _, line := range results["scorecard counts "+q.where()] {
		f := strings.Split(line, "\t")
		card.AddCounts(analytics.ScoreKey{Carrier: f[0], Lane: f[1]}, int64(atoi(f[2])), int64(atoi(f[3])), int64(atoi(f[4])), int64(atoi(f[5])))
	}
	for _, sk := range []struct {
		what string
		add  func(analytics.ScoreKey, int16, int64)
	}{{"scorecard transit ", card.AddTransit}, {"scorecard customs ", card.AddCustoms}} {
		for _, line := range results[sk.what+q.where()] {
			// carrier, lane, [bucket,...], [n,...]
			f := strings.Split(line, "\t")
			if f[2] == "[]" {
				continue
			}
			b, n := strings.Split(strings.Trim(f[2], "[]"), ","), strings.Split(strings.Trim(f[3], "[]"), ",")
			for i := range b {
				if c := atoi(n[i]); c != 0 {
					sk.add(analytics.ScoreKey{Carrier: f[0], Lane: f[1]}, int16(atoi(b[i])), int64(c))
				}
			}
		}
	}
	old, err := s.Scorecard(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dumpRows(card.Rows())) != fmt.Sprint(dumpRows(old)) || len(old) != 5 {
		t.Fatalf("scorecards differ:\ncurrent %v\n18.16   %v", dumpRows(card.Rows()), dumpRows(old))
	}

	// The states come back in full, and the retention keeps what it should.
	checkRestored(t, restoreTSV(t, strings.Join(results["restore"], "\n")), want)
	got := restoreTSV(t, strings.Join(results["restore with retention"], "\n"))
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, kept) {
		t.Errorf("restore with retention on current ClickHouse: %v, want %v", names, kept)
	}
	got = restoreTSV(t, strings.Join(results["lookup"], "\n"))
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, []string{"CLOSED_LATE", "CLOSED_OLD", "OPEN_LOST"}) {
		t.Errorf("lookup on current ClickHouse: %v", names)
	}
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
