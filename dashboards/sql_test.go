package dashboards_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/dashboards"
	"github.com/shiplens/shiplens/dashboards/internal/macro"
	"github.com/shiplens/shiplens/dashboards/internal/runner"
	"github.com/shiplens/shiplens/dashboards/internal/sample"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/chdb"
	"github.com/shiplens/shiplens/internal/chdb/chdbtest"
	"github.com/shiplens/shiplens/internal/chserver"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := chdbtest.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	if err := chtest.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// The workload the panels run over: generated orders from 2026-09-01 over
// 30 days, delivered up to late November. The time range covers it all.
var (
	workload = gen.Config{Shipments: 3000, Seed: 7}
	from     = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	to       = time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC)
	interval = 2 * time.Hour
)

// loaded is the workload in a database of the shared ClickHouse 18.16
// server, loaded once for the tests of this binary.
type loaded struct {
	st   *store.Store
	conn driver.Conn
	db   string
	sum  sample.Summary
}

var (
	loadOnce sync.Once
	theLoad  *loaded
	loadErr  error
)

// load returns the loaded workload, loading it on first use.
func load(t *testing.T) *loaded {
	t.Helper()
	addr := chtest.Server(t)
	loadOnce.Do(func() {
		ctx := context.Background()
		db := "dashboards_" + strconv.FormatInt(time.Now().UnixNano(), 36)
		cfg := store.Config{Addr: addr, Database: db}
		if _, loadErr = store.Migrate(ctx, cfg, nil); loadErr != nil {
			return
		}
		st, err := store.Open(ctx, cfg)
		if err != nil {
			loadErr = err
			return
		}
		sum, err := sample.Load(ctx, st, sample.Config{Workload: workload, FlushEvents: 5000, Processor: "test-1"})
		if err != nil {
			loadErr = fmt.Errorf("cannot load the sample workload: %w", err)
			return
		}
		conn, err := chserver.Connect(ctx, addr, db)
		if err != nil {
			loadErr = err
			return
		}
		theLoad = &loaded{st: st, conn: conn, db: db, sum: sum}
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	// The database is dropped when the server stops, with its temp dir
	// (or kept on a server of SHIPLENS_TEST_CLICKHOUSE, named dashboards_*).
	return theLoad
}

// scenario is a selection of the variables.
type scenario struct {
	name string
	sel  func(l *loaded) runner.Selection
}

// pick returns, for each label variable, two values that select together:
// those of the carrier, lane, service and merchant combinations with the
// most deliveries, in that order, the first two distinct of each.
func pick(t *testing.T, l *loaded, vars ...string) runner.Selection {
	t.Helper()
	res, err := runner.Native(l.conn)(context.Background(), `SELECT carrier, lane, service, merchant FROM shipment_days
WHERE carrier != '' AND lane != '' AND service != '' AND merchant != ''
GROUP BY carrier, lane, service, merchant ORDER BY sum(delivered) DESC, carrier, lane, service, merchant LIMIT 200`)
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{"carrier": 0, "lane": 1, "service": 2, "merchant": 3}
	sel := runner.Selection{}
	for _, v := range vars {
		for _, r := range res.Rows {
			if x := r[col[v]]; len(sel[v]) < 2 && !slices.Contains(sel[v], x) {
				sel[v] = append(sel[v], x)
			}
		}
		if len(sel[v]) != 2 {
			t.Fatalf("the workload has no two values of %s", v)
		}
	}
	return sel
}

// tracked returns a tracking number with several predictions.
func tracked(t *testing.T, l *loaded) string {
	t.Helper()
	res, err := runner.Native(l.conn)(context.Background(),
		"SELECT tracking_number FROM eta_history GROUP BY tracking_number HAVING count() >= 5 ORDER BY tracking_number LIMIT 1")
	if err != nil || len(res.Rows) == 0 {
		t.Fatalf("no tracking number with predictions: %v", err)
	}
	return res.Rows[0][0]
}

func scenarios(t *testing.T, l *loaded) []scenario {
	tn := tracked(t, l)
	with := func(sel runner.Selection) runner.Selection {
		sel["tracking"] = []string{tn}
		return sel
	}
	return []scenario{
		{"all", func(*loaded) runner.Selection { return with(runner.Selection{}) }},
		{"two carriers and lanes", func(l *loaded) runner.Selection {
			sel := with(pick(t, l, "carrier", "lane"))
			sel["sample"] = []string{"4"}
			return sel
		}},
		{"two of each label", func(l *loaded) runner.Selection {
			sel := with(pick(t, l, "carrier", "lane", "service", "merchant"))
			sel["sample"] = []string{"1"}
			return sel
		}},
		{"two processors", func(*loaded) runner.Selection { return with(runner.Selection{"processor": {"test-1", "nobody"}}) }},
	}
}

// applies reports whether a scenario selects a variable of d (all
// scenarios choose the tracking number), so that it is worth running.
func applies(name string, sel runner.Selection, d dashboards.Dashboard) bool {
	if name == "all" {
		return true
	}
	for _, v := range d.Variables {
		if _, ok := sel[v.Name]; ok && v.Kind == dashboards.Multi {
			return true
		}
	}
	return false
}

// expanded is one query of one dashboard under one scenario, expanded.
type expanded struct {
	scenario string
	query    dashboards.Query
	sql      string
	env      macro.Env
}

// expandAll expands every query of every dashboard under every scenario,
// resolving the variables on ClickHouse 18.16.
func expandAll(t *testing.T, l *loaded) []expanded {
	t.Helper()
	ctx := context.Background()
	var out []expanded
	for _, sc := range scenarios(t, l) {
		sel := sc.sel(l)
		for _, d := range build(t) {
			if !applies(sc.name, sel, d) {
				continue
			}
			env, err := runner.Env(ctx, runner.Native(l.conn), d, from, to, interval, sel)
			if err != nil {
				t.Fatalf("%s: %v", sc.name, err)
			}
			for _, q := range d.Queries {
				sql, err := macro.Expand(q.SQL, env)
				if err != nil {
					t.Fatalf("%s: %s / %s: %v", sc.name, q.Dashboard, q.Panel, err)
				}
				out = append(out, expanded{scenario: sc.name, query: q, sql: sql, env: env})
			}
		}
	}
	return out
}

func (e expanded) String() string {
	return fmt.Sprintf("%s: %s / %s (%s)", e.scenario, e.query.Dashboard, e.query.Panel, e.query.RefID)
}

// checkResult compares a result's columns with the declared ones, and
// wants rows of a main query.
func checkResult(t *testing.T, engine string, e expanded, res *runner.Result) {
	t.Helper()
	if !slices.Equal(res.Columns, e.query.Columns) {
		t.Errorf("%s on %s: columns\n got %v\nwant %v\n%s", e, engine, res.Columns, e.query.Columns, e.sql)
	}
	if e.query.Main && len(res.Rows) == 0 {
		t.Errorf("%s on %s: no rows\n%s", e, engine, e.sql)
	}
	for _, c := range res.Columns {
		if c.Name == "time" {
			for i := 1; i < len(res.Rows); i++ {
				if res.Rows[i][0] < res.Rows[i-1][0] {
					t.Errorf("%s on %s: rows not sorted by time (%s after %s)", e, engine, res.Rows[i][0], res.Rows[i-1][0])
					break
				}
			}
		}
	}
}

// TestPanelsOnClickHouse1816 runs every panel's and variable's SQL,
// expanded for each scenario, on ClickHouse 18.16 over the workload, and
// checks the columns, their types and that main panels have rows.
func TestPanelsOnClickHouse1816(t *testing.T) {
	l := load(t)
	t.Logf("workload: %+v", l.sum)
	run := runner.Native(l.conn)
	n := 0
	// The hidden variable reads the rollup unless service or merchant is
	// filtered.
	wantTable := map[string]string{"all": "carrier_days", "two carriers and lanes": "carrier_days", "two of each label": "shipment_days"}
	for _, e := range expandAll(t, l) {
		if want, ok := wantTable[e.scenario]; ok && e.query.Dashboard == dashboards.CarriersUID {
			if got := e.env.Vars["aggregates"].Selected; !slices.Equal(got, []string{want}) {
				t.Errorf("%s: aggregates = %v, want %s", e, got, want)
			}
		}
		res, err := run(context.Background(), e.sql)
		if err != nil {
			t.Errorf("%s: %v\n%s", e, err, e.sql)
			continue
		}
		checkResult(t, "18.16", e, res)
		n++
	}
	t.Logf("%d queries run", n)
}

// TestPanelsOnCurrentClickHouse copies the workload into current
// ClickHouse (libchdb), runs the same expanded SQL there, and checks the
// columns, their types and that the answers equal 18.16's.
func TestPanelsOnCurrentClickHouse(t *testing.T) {
	l := load(t)
	db, name := chdbtest.Database(t)
	migrateCurrent(t, db, name)
	copyTables(t, l.conn, db, name)
	run := runner.Native(l.conn)
	for _, e := range expandAll(t, l) {
		want, err := run(context.Background(), e.sql)
		if err != nil {
			t.Errorf("%s on 18.16: %v", e, err)
			continue
		}
		got, err := currentQuery(db, name, e.sql)
		if err != nil {
			t.Errorf("%s on current ClickHouse: %v\n%s", e, err, e.sql)
			continue
		}
		checkResult(t, "current", e, got)
		if msg := sameRows(got.Rows, want.Rows); msg != "" {
			t.Errorf("%s: current ClickHouse and 18.16 differ: %s\n%s", e, msg, e.sql)
		}
	}
}

// sameRows compares two answers, numbers to a relative 1e-9.
func sameRows(got, want [][]string) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d rows, 18.16 has %d", len(got), len(want))
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			return fmt.Sprintf("row %d has %d fields, 18.16's %d", i, len(got[i]), len(want[i]))
		}
		for j := range got[i] {
			a, b := got[i][j], want[i][j]
			if a == b {
				continue
			}
			x, err1 := strconv.ParseFloat(a, 64)
			y, err2 := strconv.ParseFloat(b, 64)
			if err1 == nil && err2 == nil && math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y)) {
				continue
			}
			return fmt.Sprintf("row %d field %d: %q, 18.16 %q", i, j, a, b)
		}
	}
	return ""
}

// tables are the shiplens tables, for qualify.
var tables = regexp.MustCompile(`\b(FROM|INTO|JOIN|EXISTS|TABLE|TO)(\s+)(shipments|shipment_facts|shipment_days|carrier_days_mv|carrier_days|schema_migrations|eta_latest|eta_history|eta_outcomes|eta_models|eta_progress|alerts|notifications|pipeline_stats)\b`)

// qualify names every shiplens table in sql as db.table: libchdb's shared
// connection has no database of the test's own.
func qualify(db, sql string) string { return tables.ReplaceAllString(sql, "${1}${2}"+db+".${3}") }

// migrateCurrent applies every migration to database name on current
// ClickHouse.
func migrateCurrent(t *testing.T, db *chdb.DB, name string) {
	t.Helper()
	migs, err := schemas.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migs {
		for _, stmt := range m.Statements {
			if err := db.Exec(qualify(name, stmt)); err != nil {
				t.Fatalf("migration %03d_%s on current ClickHouse: %v", m.Version, m.Name, err)
			}
		}
	}
}

// copied are the tables copyTables copies; carrier_days follows
// shipment_days through its materialized view.
var copied = []string{"shipment_days", "shipment_facts", "eta_latest", "eta_history", "eta_outcomes", "alerts", "notifications", "pipeline_stats"}

// copyTables copies the workload from 18.16 into database name of current
// ClickHouse, as INSERT ... VALUES of 2,000 rows each.
func copyTables(t *testing.T, conn driver.Conn, db *chdb.DB, name string) {
	t.Helper()
	ctx := context.Background()
	// Merged first: panels that count rows of a ReplacingMergeTree (the
	// notifications per hour) answer with what has been merged so far, and
	// a merge on one side only, during the test, made the two differ.
	for _, table := range copied {
		if err := conn.Exec(ctx, "OPTIMIZE TABLE "+table+" FINAL"); err != nil {
			t.Fatalf("OPTIMIZE TABLE %s FINAL on 18.16: %v", table, err)
		}
	}
	for _, table := range copied {
		rows, err := conn.Query(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		types := rows.ColumnTypes()
		names := make([]string, len(types))
		for i, ct := range types {
			names[i] = "`" + ct.Name() + "`"
		}
		// Without optimize_on_insert, current ClickHouse keeps the rows as
		// 18.16 holds them, unmerged, instead of folding each insert.
		head := "INSERT INTO " + name + "." + table + " (" + strings.Join(names, ", ") + ") SETTINGS optimize_on_insert = 0 VALUES "
		var batch []string
		flush := func() {
			if len(batch) == 0 {
				return
			}
			if err := db.Exec(head + strings.Join(batch, ", ")); err != nil {
				t.Fatalf("cannot copy %s to current ClickHouse: %v", table, err)
			}
			batch = batch[:0]
		}
		for rows.Next() {
			vals := make([]any, len(types))
			for i, ct := range types {
				vals[i] = newScan(ct.ScanType())
			}
			if err := rows.Scan(vals...); err != nil {
				t.Fatal(err)
			}
			lits := make([]string, len(vals))
			for i, v := range vals {
				lits[i] = literal(types[i].DatabaseTypeName(), v)
			}
			batch = append(batch, "("+strings.Join(lits, ", ")+")")
			if len(batch) == 2000 {
				flush()
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		flush()
	}
}

// currentQuery runs sql on current ClickHouse with its tables in database
// name, times in UTC.
func currentQuery(db *chdb.DB, name, sql string) (*runner.Result, error) {
	settings := " SETTINGS session_timezone = 'UTC'"
	if strings.Contains(sql, "\nSETTINGS ") {
		settings = ", session_timezone = 'UTC'"
	}
	out, err := db.Query(qualify(name, sql)+settings, "TabSeparatedWithNamesAndTypes")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("no header in %q", out)
	}
	names, types := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	res := &runner.Result{}
	for i := range names {
		res.Columns = append(res.Columns, dashboards.Column{Name: unescapeTSV(names[i]), Type: types[i]})
	}
	for _, line := range lines[2:] {
		fields := strings.Split(line, "\t")
		for i, f := range fields {
			if f != runner.Null {
				fields[i] = unescapeTSV(f)
			}
		}
		res.Rows = append(res.Rows, fields)
	}
	return res, nil
}

var tsvEscapes = strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n", `\'`, "'")

func unescapeTSV(s string) string { return tsvEscapes.Replace(s) }

// TestQuantilesMatchStore compares panels' figures with what store
// computes in Go (analytics.Sketch over the same aggregates): the carrier
// ranking and the per-lane table with the scorecard, the transit
// percentiles per day with TransitPerDay, and customs dwell per country
// with CustomsByDestination.
func TestQuantilesMatchStore(t *testing.T) {
	l := load(t)
	ctx := context.Background()
	q := store.ScorecardQuery{From: from, To: to}
	card, err := l.st.ScorecardOf(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	byCarrier := card.RollUp(func(k analytics.ScoreKey) analytics.ScoreKey { return analytics.ScoreKey{Carrier: k.Carrier} }).Rows()
	results := map[string]*runner.Result{}
	for _, e := range expandAll(t, l) {
		if e.scenario != "all" {
			continue
		}
		res, err := runner.Native(l.conn)(ctx, e.sql)
		if err != nil {
			t.Fatal(err)
		}
		results[e.query.Panel] = res
	}
	f := func(panel string, keyCols int, want map[string][]string) {
		t.Helper()
		res := results[panel]
		if res == nil {
			t.Fatalf("no panel %q", panel)
		}
		got := map[string][]string{}
		for _, r := range res.Rows {
			got[strings.Join(r[:keyCols], "/")] = r[keyCols:]
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, store has %d", panel, len(got), len(want))
		}
		for k, w := range want {
			g, ok := got[k]
			if !ok {
				t.Errorf("%s: no row %s", panel, k)
				continue
			}
			if msg := sameRows([][]string{g[:len(w)]}, [][]string{w}); msg != "" {
				t.Errorf("%s, %s: %s (got %v, store %v)", panel, k, msg, g, w)
			}
		}
	}
	num := func(p *float64) string {
		if p == nil {
			return runner.Null
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	row := func(r analytics.ScoreRow) []string {
		return []string{fmt.Sprint(r.Delivered), fmt.Sprint(r.WithPromise), fmt.Sprint(r.OnTime), num(r.OnTimeRate),
			num(r.TransitHoursP50), num(r.TransitHoursP90), num(r.CustomsDwellHoursP50), num(r.CustomsDwellHoursP90), fmt.Sprint(r.Exceptions)}
	}
	want := map[string][]string{}
	for _, r := range byCarrier {
		want[r.Carrier] = row(r)
	}
	f("Carrier ranking", 1, want)
	want = map[string][]string{}
	for _, r := range card.Rows() {
		want[r.Carrier+"/"+r.Lane] = row(r)
	}
	f("Carriers per lane", 2, want)

	days, err := l.st.TransitPerDay(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string][]string{}
	for _, d := range days {
		want[d.Day.Format(time.DateOnly)] = []string{num(&d.P50), num(&d.P90)}
	}
	f("Transit time p50 and p90, per day", 1, want)

	countries, err := l.st.CustomsByDestination(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string][]string{}
	for _, c := range countries {
		want[c.Country] = []string{fmt.Sprint(c.N), num(&c.P50), num(&c.P90)}
	}
	f("Dwell by destination country", 1, want)
}

// newScan returns a pointer to a new value of t, to scan into.
func newScan(t reflect.Type) any { return reflect.New(t).Interface() }

// literal renders a scanned value (a pointer) of a column of ClickHouse
// type typ as SQL for current ClickHouse's VALUES.
func literal(typ string, scanned any) string {
	v := reflect.ValueOf(scanned)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case string:
		return quote(x)
	case time.Time:
		if typ == "Date" {
			return "toDate('" + x.UTC().Format(time.DateOnly) + "')"
		}
		return fmt.Sprintf("toDateTime(%d, 'UTC')", x.Unix())
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	switch v.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprint(v.Interface())
	case reflect.Slice:
		elem := strings.TrimSuffix(strings.TrimPrefix(typ, "Array("), ")")
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = literal(elem, v.Index(i).Addr().Interface())
		}
		return "CAST([" + strings.Join(parts, ",") + "] AS " + typ + ")"
	}
	panic(fmt.Sprintf("literal: unhandled %s value %T", typ, v.Interface()))
}

// quote returns s as a ClickHouse string literal.
func quote(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }

// results runs every panel's query of the dashboards for sel on 18.16,
// keyed by dashboard uid and panel title.
func results(t *testing.T, l *loaded, sel runner.Selection) map[string]*runner.Result {
	t.Helper()
	ctx := context.Background()
	out := map[string]*runner.Result{}
	for _, d := range build(t) {
		env, err := runner.Env(ctx, runner.Native(l.conn), d, from, to, interval, sel)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range d.Queries {
			sql, err := macro.Expand(q.SQL, env)
			if err != nil {
				t.Fatal(err)
			}
			res, err := runner.Native(l.conn)(ctx, sql)
			if err != nil {
				t.Fatalf("%s / %s: %v", d.UID, q.Panel, err)
			}
			out[d.UID+"/"+q.Panel] = res
		}
	}
	return out
}

// query runs sql on the loaded workload.
func query(t *testing.T, l *loaded, sql string) *runner.Result {
	t.Helper()
	res, err := runner.Native(l.conn)(context.Background(), sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return res
}

// sameResult compares a panel's rows with a reference's.
func sameResult(t *testing.T, what string, got, want *runner.Result) {
	t.Helper()
	if len(want.Rows) == 0 {
		t.Errorf("%s: the reference has no rows", what)
	}
	if msg := sameRows(got.Rows, want.Rows); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

// TestAccuracyMatchesStore checks the ETA panels' copy of
// store.AccuracySQL against store's own, on the same sample (its %WHERE%
// holds over the latest outcome, tracking number included), for all
// shipments and for one in four.
func TestAccuracyMatchesStore(t *testing.T) {
	l := load(t)
	f, e := "toDateTime("+strconv.FormatInt(from.Unix(), 10)+")", "toDateTime("+strconv.FormatInt(to.Unix()+1, 10)+")"
	for _, n := range []string{"1", "4"} {
		got := results(t, l, runner.Selection{"sample": {n}})
		where := "cityHash64(tracking_number) % " + n + " = 0"
		sameResult(t, "error per day, sample "+n, got[dashboards.ETAUID+"/Prediction error, per delivery day"], query(t, l,
			"SELECT day, mae_hours, bias_hours, if(promised_predictions = 0, NULL, promised_mae_hours) FROM ("+store.AccuracySQL(f, e, where, false)+") ORDER BY day"))
		sameResult(t, "hits per day, sample "+n, got[dashboards.ETAUID+"/Within 24 h, same day and coverage, per delivery day"], query(t, l,
			"SELECT day, within_24h, same_day, coverage, if(promised_predictions = 0, NULL, promised_within_24h) FROM ("+store.AccuracySQL(f, e, where, false)+") ORDER BY day"))
		sameResult(t, "by milestone, sample "+n, got[dashboards.ETAUID+"/Accuracy by milestone"], query(t, l,
			"SELECT milestone, toInt64(sum(predictions)) AS n, sum(mae_hours * predictions) / n, sum(bias_hours * predictions) / n, sum(within_24h * predictions) / n, "+
				"sum(same_day * predictions) / n, sum(coverage * predictions) / n FROM ("+store.AccuracySQL(f, e, where, true)+") GROUP BY milestone ORDER BY n DESC, milestone"))
	}
}

// TestAlertsMatchStore checks the alert panels, which fold transitions
// with FINAL, against store's reads, which take LIMIT 1 BY alert_id.
func TestAlertsMatchStore(t *testing.T) {
	l := load(t)
	got := results(t, l, runner.Selection{})
	rows, err := l.st.AlertSummary(context.Background(), from, to.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var opened, open, resolved int64
	want := &runner.Result{}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Opened > rows[j].Opened })
	for _, r := range rows {
		opened, open, resolved = opened+r.Opened, open+r.Open, resolved+r.Resolved
		p50, p90 := "0", "0"
		if r.ResolveHoursP50 != nil {
			p50, p90 = strconv.FormatFloat(*r.ResolveHoursP50, 'g', -1, 64), strconv.FormatFloat(*r.ResolveHoursP90, 'g', -1, 64)
		}
		if len(want.Rows) < 500 {
			want.Rows = append(want.Rows, []string{string(r.Type), r.Carrier, r.Lane, r.Merchant, fmt.Sprint(r.Opened), fmt.Sprint(r.Resolved), fmt.Sprint(r.Open), p50, p90})
		}
	}
	sameResult(t, "alerts summary", got[dashboards.ExceptionsUID+"/Alerts by type, carrier, lane and merchant"], want)
	totals := got[dashboards.ExceptionsUID+"/Alerts opened in the range"]
	if w := []string{fmt.Sprint(opened), fmt.Sprint(open), fmt.Sprint(resolved)}; !slices.Equal(totals.Rows[0][:3], w) {
		t.Errorf("alert totals %v, store %v", totals.Rows[0][:3], w)
	}
	list, err := l.st.ListAlerts(context.Background(), store.AlertQuery{Open: true, From: from, To: to.Add(time.Second), Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	panel := got[dashboards.ExceptionsUID+"/Open alerts"]
	if len(panel.Rows) != len(list) || len(list) == 0 {
		t.Fatalf("open alerts: %d rows, store lists %d", len(panel.Rows), len(list))
	}
	for i, a := range list {
		if id := panel.Rows[i][len(panel.Rows[i])-1]; id != a.ID {
			t.Errorf("open alert %d is %s, store lists %s", i, id, a.ID)
			break
		}
	}
}

// TestSlowestDeliveriesExact checks the drill-down's candidates against
// the latest version of every shipment.
func TestSlowestDeliveriesExact(t *testing.T) {
	l := load(t)
	got := results(t, l, runner.Selection{})
	sameResult(t, "slowest deliveries", got[dashboards.LanesUID+"/Slowest deliveries"], query(t, l, `
SELECT tracking_number, carrier, service, lane, merchant, delivered_at, transit_hours, customs_dwell_hours, on_time, promised_at
FROM
(
    SELECT tracking_number, argMax(carrier, version) AS carrier, argMax(service, version) AS service,
        argMax(lane, version) AS lane, argMax(merchant, version) AS merchant,
        argMax(delivered, version) AS is_delivered, argMax(delivered_day, version) AS day,
        argMax(delivered_at, version) AS delivered_at, argMax(transit_hours, version) AS transit_hours,
        argMax(customs_dwell_hours, version) AS customs_dwell_hours, argMax(on_time, version) AS on_time,
        argMax(promised_at, version) AS promised_at
    FROM shipment_facts
    GROUP BY tracking_number
)
WHERE is_delivered = 1 AND day >= toDate('`+from.Format(time.DateOnly)+`') AND day <= toDate('`+to.Format(time.DateOnly)+`')
ORDER BY transit_hours DESC, tracking_number
LIMIT 100`))
}
