package chdb_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shiplens/shiplens/internal/chdb"
	"github.com/shiplens/shiplens/internal/chdb/chdbtest"
)

func TestMain(m *testing.M) { chdbtest.Main(m) }

func TestFindHonoursEnv(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope", "libchdb.so")
	t.Setenv(chdb.EnvLibPath, missing)
	_, err := chdb.Find()
	if !errors.Is(err, chdb.ErrNotFound) {
		t.Fatalf("Find with %s=%s: got %v, want ErrNotFound", chdb.EnvLibPath, missing, err)
	}

	present := filepath.Join(t.TempDir(), "libchdb.so")
	if err := os.WriteFile(present, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(chdb.EnvLibPath, present)
	got, err := chdb.Find()
	if err != nil || got != present {
		t.Fatalf("Find = %q, %v; want %q", got, err, present)
	}
}

func TestVersionIsCurrent(t *testing.T) {
	db := chdbtest.Open(t)
	out, err := db.Query("SELECT version()", "TabSeparated")
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(out)
	var major int
	if _, err := fmt.Sscanf(v, "%d.", &major); err != nil || major < 23 {
		t.Fatalf("version() = %q, want a current ClickHouse (>= 23)", v)
	}
	t.Logf("libchdb ClickHouse %s", v)
}

func TestMergeTreeRoundTrip(t *testing.T) {
	db, name := chdbtest.Database(t)
	tbl := name + ".shipments"
	ddl := `CREATE TABLE ` + tbl + ` (
		carrier String,
		tracking_number String,
		ts DateTime,
		transit_hours Float64
	) ENGINE = MergeTree ORDER BY (carrier, tracking_number, ts)`
	if err := db.Exec(ddl); err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO ` + tbl + ` (carrier, tracking_number, ts, transit_hours) VALUES
		('dhl', 'A1', '2026-01-01 10:00:00', 48),
		('dhl', 'A2', '2026-01-01 11:00:00', 72),
		('ups', 'B1', '2026-01-02 09:00:00', 24)`
	if err := db.Exec(insert); err != nil {
		t.Fatal(err)
	}

	out, err := db.Query(`SELECT carrier, count(), avg(transit_hours), toStartOfDay(min(ts))
		FROM `+tbl+` GROUP BY carrier ORDER BY carrier`, "TabSeparated")
	if err != nil {
		t.Fatal(err)
	}
	want := "dhl\t2\t60\t2026-01-01 00:00:00\nups\t1\t24\t2026-01-02 00:00:00\n"
	if out != want {
		t.Fatalf("aggregate output:\n%q\nwant\n%q", out, want)
	}

	js, err := db.Query(`SELECT tracking_number FROM `+tbl+` WHERE carrier = 'ups'`, "JSONEachRow")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(js) != `{"tracking_number":"B1"}` {
		t.Fatalf("JSONEachRow output %q", js)
	}

	empty, err := db.Query(`SELECT * FROM `+tbl+` WHERE carrier = 'fedex'`, "")
	if err != nil || empty != "" {
		t.Fatalf("empty result = %q, %v", empty, err)
	}
}

func TestQueryErrorsCarryEngineMessage(t *testing.T) {
	db, name := chdbtest.Database(t)
	cases := map[string]string{
		"SELECT * FROM " + name + ".missing_table": "UNKNOWN_TABLE",
		"SELECT no_such_function(1)":               "UNKNOWN_FUNCTION",
		"SELEKT 1":                                 "SYNTAX_ERROR",
	}
	for sql, code := range cases {
		_, err := db.Query(sql, "TabSeparated")
		if err == nil {
			t.Errorf("%s: no error", sql)
			continue
		}
		if !strings.Contains(err.Error(), code) || !strings.HasPrefix(err.Error(), "cannot run chdb query: ") {
			t.Errorf("%s: error %q does not carry %s", sql, err, code)
		}
	}
	// The connection stays usable after errors.
	if out, err := db.Query("SELECT 1", ""); err != nil || out != "1\n" {
		t.Fatalf("SELECT 1 after errors = %q, %v", out, err)
	}
}

func TestGoPanicsSurviveLibchdb(t *testing.T) {
	db := chdbtest.Open(t)
	if err := db.Exec("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	// libchdb resets SIGSEGV to SIG_DFL; without the restore in chdb.Open
	// this nil dereference kills the test binary instead of panicking.
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		var p *int
		_ = *p
	}()
	if recovered == nil {
		t.Fatal("nil dereference did not panic")
	}
}

func TestConcurrentQueries(t *testing.T) {
	db, name := chdbtest.Database(t)
	if err := db.Exec("CREATE TABLE " + name + ".n (x UInt64) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO " + name + ".n SELECT number FROM numbers(1000)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			out, err := db.Query(fmt.Sprintf("SELECT sum(x) FROM %s.n WHERE x < %d", name, (i+1)*100), "")
			if err != nil {
				errs <- err
				return
			}
			n := (i + 1) * 100
			if want := fmt.Sprintf("%d\n", n*(n-1)/2); out != want {
				errs <- fmt.Errorf("query %d = %q, want %q", i, out, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOpenRules(t *testing.T) {
	shared := chdbtest.Open(t)
	lib, err := chdb.Find()
	if err != nil {
		t.Fatal(err)
	}

	if _, err := chdb.Open(lib, ""); err == nil {
		t.Error("Open with no data dir succeeded")
	}
	if _, err := chdb.Open(filepath.Join(t.TempDir(), "libchdb.so"), shared.Path()); err == nil || !strings.Contains(err.Error(), "already loaded") {
		t.Errorf("Open of a second library: got %v, want an 'already loaded' error", err)
	}
	if _, err := chdb.Open(lib, t.TempDir()); err == nil || !strings.Contains(err.Error(), "one storage path per process") {
		t.Errorf("Open on another path while one is open: got %v, want a 'one storage path' error", err)
	}

	// A second connection on the same path sees the same data.
	_, name := chdbtest.Database(t)
	if err := shared.Exec("CREATE TABLE " + name + ".k (a UInt8) ENGINE = MergeTree ORDER BY a"); err != nil {
		t.Fatal(err)
	}
	if err := shared.Exec("INSERT INTO " + name + ".k VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	second, err := chdb.Open(lib, shared.Path())
	if err != nil {
		t.Fatal(err)
	}
	out, err := second.Query("SELECT a FROM "+name+".k", "")
	if err != nil || out != "7\n" {
		t.Errorf("second connection read %q, %v", out, err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := second.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := second.Query("SELECT 1", ""); err == nil {
		t.Error("Query after Close succeeded")
	}
	// Closing one connection leaves the shared one working.
	if out, err := shared.Query("SELECT 2", ""); err != nil || out != "2\n" {
		t.Fatalf("shared after second.Close = %q, %v", out, err)
	}
}
