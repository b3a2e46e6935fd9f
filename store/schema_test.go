package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	chcol "github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/chdb"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/schemas"
)

// wantColumns renders factColumns as DESCRIBE TABLE's first two columns.
func wantColumns() string {
	var b strings.Builder
	for _, c := range factColumns {
		fmt.Fprintf(&b, "%s %s\n", c.name, c.typ)
	}
	return b.String()
}

// describe returns the name and type of each column of the shipment facts
// table in database name of current ClickHouse, one "name type" line each.
func describe(t *testing.T, db *chdb.DB, name string) string {
	t.Helper()
	out, err := db.Query("DESCRIBE TABLE "+name+"."+factsTable, "TabSeparated")
	if err != nil {
		t.Fatalf("describe %s on current ClickHouse: %v", factsTable, err)
	}
	var b strings.Builder
	for _, line := range lines(out) {
		f := strings.Split(line, "\t")
		fmt.Fprintf(&b, "%s %s\n", f[0], f[1])
	}
	return b.String()
}

// TestColumnsMatchMigration checks factColumns against the shipment facts
// table that the migrations create, on ClickHouse 18.16 and on current
// ClickHouse.
func TestColumnsMatchMigration(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	rows, err := s.Conn().Query(ctx, "DESCRIBE TABLE "+factsTable)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		dest := make([]any, len(rows.Columns())) // 18.16 and later releases differ in their number
		for i := range dest {
			dest[i] = new(string)
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", *dest[0].(*string), *dest[1].(*string))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != wantColumns() {
		t.Fatalf("the migrated %s table has columns\n%s\nfactColumns are\n%s", factsTable, got, wantColumns())
	}
	db, name := migrateCurrent(t)
	if got := describe(t, db, name); got != wantColumns() {
		t.Fatalf("%s on current ClickHouse has columns\n%s\nfactColumns are\n%s", factsTable, got, wantColumns())
	}
}

// migrationDDL returns the migrations' CREATE TABLE of table, with the
// columns later migrations add to it (ALTER TABLE ... ADD COLUMN) folded
// in, and with old replaced by new.
func migrationDDL(t *testing.T, table, old, new string) string {
	t.Helper()
	migs, err := schemas.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	create := ""
	for _, m := range migs {
		for _, stmt := range m.Statements {
			if strings.HasPrefix(stmt, "CREATE TABLE IF NOT EXISTS "+table+"\n") {
				create = stmt
			}
			if col, ok := strings.CutPrefix(stmt, "ALTER TABLE "+table+" ADD COLUMN "); ok && create != "" {
				end := strings.Index(create, "\n)\nENGINE")
				if end < 0 {
					t.Fatalf("cannot add a column to the %s DDL", table)
				}
				create = create[:end] + ",\n    " + strings.TrimSuffix(strings.TrimSpace(col), ";") + create[end:]
			}
		}
	}
	if create == "" {
		t.Fatalf("no migration creates %s", table)
	}
	if !strings.Contains(create, old) {
		t.Fatalf("the %s DDL has no %q", table, old)
	}
	return strings.Replace(create, old, new, 1)
}

// factsDDL returns the migrations' CREATE TABLE of the shipment facts with
// old replaced by new.
func factsDDL(t *testing.T, old, new string) string { return migrationDDL(t, factsTable, old, new) }

// TestSchemaMismatch runs every call against shipment facts tables that are
// not the migration's, next to the migration's daily aggregates, on
// ClickHouse 18.16: the calls that touch what differs fail with a permanent
// error that says what differs, the others work. The scorecard reads only
// the aggregates.
func TestSchemaMismatch(t *testing.T) {
	ctx := context.Background()
	facts := sampleFacts()
	type paths struct{ restore, write, days, scorecard, open string } // "" for success, else a part of the message
	f := func(name string, ddl []string, row map[string]any, want paths) {
		t.Run(name, func(t *testing.T) {
			conn, db := chtest.Conn(t)
			for _, stmt := range ddl {
				if err := conn.Exec(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			if row != nil { // a row, so that Restore reaches the scan
				var names []string
				var values []any
				for _, k := range slices.Sorted(maps.Keys(row)) {
					names, values = append(names, k), append(values, row[k])
				}
				b, err := conn.PrepareBatch(ctx, "INSERT INTO "+factsTable+" ("+strings.Join(names, ", ")+")")
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Append(values...); err != nil {
					t.Fatal(err)
				}
				if err := b.Send(); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(ctx, Config{Addr: chtest.Server(t), Database: db})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			check := func(call, want string, err error) {
				t.Helper()
				t.Logf("%s: %v", call, err)
				if want == "" {
					if err != nil {
						t.Errorf("%s: %v", call, err)
					}
					return
				}
				switch {
				case err == nil:
					t.Errorf("%s succeeded on a mismatched schema", call)
				case !retry.IsPermanent(err) || Retryable(err):
					t.Errorf("%s: error not permanent: %v", call, err)
				case !errors.Is(err, ErrSchemaMismatch):
					t.Errorf("%s: error does not wrap ErrSchemaMismatch: %v", call, err)
				case !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "apply the migrations (migrate)"):
					t.Errorf("%s: error %q does not say %q and how to fix it", call, err, want)
				}
			}
			check("Restore", want.restore, s.Restore(ctx, 3, analytics.DefaultRetention, func(string, analytics.Shipment) {}))
			check("Lookup", want.restore, s.Lookup(ctx, 3, []string{"A"}, func(string, analytics.Shipment) {}))
			check("WriteFacts", want.write, s.WriteFacts(ctx, facts))
			check("WriteDays", want.days, s.WriteDays(ctx, daysOf(facts), []analytics.Advance{{Partition: 3, From: 0, To: 1}}, false))
			_, err = s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)})
			check("Scorecard", want.scorecard, err)
			_, err = s.OpenShipments(ctx, "dhl", day0)
			check("OpenShipments", want.open, err)
		})
	}
	days := []string{migrationDDL(t, daysTable, "", ""), migrationDDL(t, rollupTable, "", "")}
	shipment := func(extra map[string]any) map[string]any {
		row := map[string]any{"tracking_number": "A", "partition": uint16(3), "status": "delivered", "version": uint32(1)}
		maps.Copy(row, extra)
		return row
	}
	missing := "." + factsTable + " lacks column carrier String"
	f("missing column", append([]string{factsDDL(t, "    carrier String,\n", "")}, days...), nil,
		paths{restore: missing, write: missing, open: missing})
	f("missing restored column", append([]string{factsDDL(t, "    early_out Array(Int64),\n", "")}, days...), nil,
		paths{restore: "lacks column early_out Array(Int64)", write: "lacks column early_out Array(Int64)"})
	f("wrong type", append([]string{factsDDL(t, "    last_key Int64,", "    last_key String,")}, days...), shipment(nil),
		paths{restore: "has last_key String, want Int64", write: "has last_key String, want Int64"})
	f("wrong array type", append([]string{factsDDL(t, "    early_out Array(Int64),", "    early_out Array(String),")}, days...), shipment(map[string]any{"early_out": []string{"x"}}),
		paths{restore: "has early_out Array(String), want Array(Int64)", write: "has early_out Array(String), want Array(Int64)"})
	none := "." + factsTable + " does not exist"
	f("no tables", nil, nil, paths{none, none, none, none, none})
	// What an older shiplens migrated: 001's shipments table only.
	f("only migration 001", []string{migrationDDL(t, "shipments", "", "")}, nil, paths{none, none, none, none, none})
	f("extra column", append([]string{factsDDL(t, "    updated_at DateTime,\n", "    updated_at DateTime,\n    note String DEFAULT '',\n")}, days...), shipment(nil), paths{})
}

// TestDroppedDatabase: a database dropped under an open Store gives
// permanent errors that wrap ErrNoDatabase.
func TestDroppedDatabase(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.Conn().Exec(ctx, "DROP DATABASE "+s.cfg.Database); err != nil {
		t.Fatal(err)
	}
	err := s.Restore(ctx, 3, analytics.DefaultRetention, func(string, analytics.Shipment) {})
	t.Logf("Restore: %v", err)
	if !retry.IsPermanent(err) || !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), s.cfg.Database) {
		t.Fatalf("Restore: %v, want a permanent ErrNoDatabase naming the database", err)
	}
	err = s.WriteFacts(ctx, sampleFacts())
	if !retry.IsPermanent(err) || !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("WriteFacts: %v, want a permanent ErrNoDatabase", err)
	}
	err = s.WriteDays(ctx, daysOf(sampleFacts()), []analytics.Advance{{Partition: 3, From: 0, To: 1}}, false)
	if !retry.IsPermanent(err) || !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("WriteDays: %v, want a permanent ErrNoDatabase", err)
	}
	_, err = s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0})
	if !retry.IsPermanent(err) || !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("Scorecard: %v, want a permanent ErrNoDatabase", err)
	}
}

// proxy forwards TCP connections to addr until cut.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, addr string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer p.wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// cut closes the listener and every connection, and waits for the copies.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestNetworkErrorsRetryable: with the server out of reach, every call
// fails with an error that is neither permanent nor a schema mismatch.
func TestNetworkErrorsRetryable(t *testing.T) {
	addr, db := chtest.DB(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, Config{Addr: addr, Database: db}, nil); err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, addr)
	s, err := Open(ctx, Config{Addr: p.ln.Addr().String(), Database: db, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p.cut()
	check := func(call string, err error) {
		t.Helper()
		t.Logf("%s: %v", call, err)
		if err == nil || retry.IsPermanent(err) || !Retryable(err) || errors.Is(err, ErrSchemaMismatch) {
			t.Errorf("%s with the server gone: %v, want a retryable error", call, err)
		}
	}
	check("Restore", s.Restore(ctx, 3, analytics.DefaultRetention, func(string, analytics.Shipment) {}))
	check("Lookup", s.Lookup(ctx, 3, []string{"A"}, func(string, analytics.Shipment) {}))
	check("WriteFacts", s.WriteFacts(ctx, sampleFacts()))
	adv := []analytics.Advance{{Partition: 3, From: 0, To: 1}}
	check("WriteDays", s.WriteDays(ctx, daysOf(sampleFacts()), adv, false))
	check("WriteDays retried", s.WriteDays(ctx, daysOf(sampleFacts()), adv, true))
	_, err = s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0})
	check("Scorecard", err)
}

func TestRetryable(t *testing.T) {
	f := func(err error, want bool) {
		t.Helper()
		if got := Retryable(err); got != want {
			t.Errorf("Retryable(%v) = %v, want %v", err, got, want)
		}
	}
	ex := func(code int32) error { return fmt.Errorf("cannot query: %w", &proto.Exception{Code: code}) }
	f(nil, false)
	f(context.Canceled, false)
	f(context.DeadlineExceeded, true)
	f(io.EOF, true)
	f(&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true)
	for _, code := range []int32{8, 10, 16, 47, 53, 60, 62, 81, 170, 386} {
		f(ex(code), false)
	}
	f(ex(159), true) // TIMEOUT_EXCEEDED
	f(ex(241), true) // MEMORY_LIMIT_EXCEEDED
	f(ex(252), true) // TOO_MANY_PARTS
	conv := &chcol.ColumnConverterError{Op: "Append", From: "[]int64", To: "String"}
	f(conv, false)
	f(fmt.Errorf("cannot fill column: %w", conv), false)
	f(&clickhouse.OpError{Op: "ScanRow", ColumnName: "last_key", Err: conv}, false)
	f(fmt.Errorf("x: %w", &clickhouse.OpError{Op: "process", Err: errors.New("unexpected packet 12")}), true)
}
