package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/chdb/chdbtest"
	"github.com/shiplens/shiplens/schemas"
)

// valuesSQL renders a batch as INSERT ... VALUES text, for engines reached
// without the native protocol (libchdb).
func valuesSQL(db string, fb *factBatch) string {
	cols := fb.columns()
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s.shipments (%s) VALUES ", db, strings.Join(factColumns, ", "))
	for i := range fb.tn {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, col := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			switch c := col.(type) {
			case []string:
				b.WriteString(quote(c[i]))
			case []uint16:
				b.WriteString(strconv.Itoa(int(c[i])))
			case []uint8:
				b.WriteString(strconv.Itoa(int(c[i])))
			case []int16:
				b.WriteString(strconv.Itoa(int(c[i])))
			case []uint32:
				b.WriteString(strconv.FormatUint(uint64(c[i]), 10))
			case []int64:
				b.WriteString(strconv.FormatInt(c[i], 10))
			case []float64:
				b.WriteString(strconv.FormatFloat(c[i], 'g', -1, 64))
			case [][]int64:
				b.WriteByte('[')
				for k, v := range c[i] {
					if k > 0 {
						b.WriteByte(',')
					}
					b.WriteString(strconv.FormatInt(v, 10))
				}
				b.WriteByte(']')
			case []time.Time:
				if strings.HasSuffix(factColumns[j], "_day") {
					fmt.Fprintf(&b, "toDate('%s')", c[i].Format(time.DateOnly))
				} else {
					fmt.Fprintf(&b, "toDateTime(%d, 'UTC')", c[i].Unix())
				}
			default:
				panic(fmt.Sprintf("valuesSQL: unhandled column type %T", col))
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// TestSQLOnCurrentClickHouse applies the migrations on current ClickHouse
// (libchdb), writes the same facts as the 18.16 test, and checks that the
// restore and scorecard queries give the same answers as on 18.16.
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
	facts := sampleFacts()
	var fb factBatch
	for i := range facts {
		fb.add(&facts[i], time.Unix(1790000000, 0).UTC())
	}
	if err := db.Exec(valuesSQL(name, &fb)); err != nil {
		t.Fatalf("insert on current ClickHouse: %v", err)
	}
	if err := db.Exec(valuesSQL(name, &fb)); err != nil { // a retried batch
		t.Fatalf("second insert on current ClickHouse: %v", err)
	}
	qualify := func(sql string) string { return strings.ReplaceAll(sql, "FROM shipments", "FROM "+name+".shipments") }

	out, err := db.Query(qualify(restoreSQL(3)), "TabSeparated")
	if err != nil {
		t.Fatalf("restore query on current ClickHouse: %v", err)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Fatalf("restore returned %d rows, want 2:\n%s", n, out)
	}

	q := ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)}
	delivered, exceptions := scorecardSQL(q)
	var card analytics.Scorecard
	out, err = db.Query(qualify(delivered), "TabSeparated")
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
