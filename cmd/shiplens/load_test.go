package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

func TestParseDuration(t *testing.T) {
	f := func(in string, want time.Duration) {
		t.Helper()
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	f("30d", 30*24*time.Hour)
	f("1.5d", 36*time.Hour)
	f("0.25d", 6*time.Hour)
	f("0.1d", 2*time.Hour+24*time.Minute)
	f("1d12h", 36*time.Hour)
	f("2d30m", 48*time.Hour+30*time.Minute)
	f("-2d", -48*time.Hour)
	f("+1d", 24*time.Hour)
	f("0d", 0)
	f("0", 0)
	f("36h", 36*time.Hour)
	f("90m", 90*time.Minute)
	f("1h30m", 90*time.Minute)
	bad := func(in string) {
		t.Helper()
		if d, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, d)
		}
	}
	for _, in := range []string{"", "d", "30", "x30d", "30dd", "1d-12h", "1e3d", "inf d", "NaNd", "1.2.3d", "--1d", "30days", "1d 2h", "300000000d"} {
		bad(in)
	}
	for d, want := range map[time.Duration]string{30 * 24 * time.Hour: "30d", 36 * time.Hour: "36h0m0s", 0: "0s", -48 * time.Hour: "-2d"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRetentionFlags(t *testing.T) {
	f := func(want analytics.Retention, args ...string) {
		t.Helper()
		fs := newFlags("x", "x", io.Discard)
		r := retentionFlags(fs)
		if err := fs.parse(args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if got := r(); got != want {
			t.Errorf("%v: retention %+v, want %+v", args, got, want)
		}
	}
	const d = 24 * time.Hour
	f(analytics.Retention{Closed: 30 * d, Lost: 90 * d})
	f(analytics.Retention{Closed: 36 * time.Hour, Lost: 90 * d}, "--retention", "1.5d")
	f(analytics.Retention{Closed: 30 * d, Lost: 7 * d}, "--lost-after", "168h")
	f(analytics.Retention{Closed: 30 * d, Lost: -1}, "--lost-after", "0") // never
	t.Setenv("SHIPLENS_RETENTION", "2d")
	t.Setenv("SHIPLENS_LOST_AFTER", "0d")
	f(analytics.Retention{Closed: 2 * d, Lost: -1})
	f(analytics.Retention{Closed: 3 * d, Lost: 4 * d}, "--retention", "3d", "--lost-after", "4d")

	// -h shows the defaults in days.
	var help strings.Builder
	fs := newFlags("process", "process", &help)
	retentionFlags(fs)
	if err := fs.parse([]string{"-h"}); err != errHelp || !strings.Contains(help.String(), "(default 30d)") || !strings.Contains(help.String(), "(default 90d)") {
		t.Fatalf("-h: %v\n%s", err, help.String())
	}
}

// shipmentTruth is what the generator's events say of one shipment,
// computed here from the events alone.
type shipmentTruth struct {
	service, merchant        string
	delivered, exception     time.Time // first of each; zero when none
	hasDelivery, hasExcepted bool
}

// truth groups the events of cfg by tracking number.
func truth(t *testing.T, cfg gen.Config) (map[string]*shipmentTruth, time.Time, time.Time) {
	t.Helper()
	g, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*shipmentTruth{}
	var first, last time.Time
	for _, e := range g.Events() {
		s := out[e.TrackingNumber]
		if s == nil {
			s = &shipmentTruth{service: e.Service, merchant: e.Merchant}
			out[e.TrackingNumber] = s
		}
		at := e.OccurredAt
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
		if e.Status == schemas.Delivered && (!s.hasDelivery || at.Before(s.delivered)) {
			s.delivered, s.hasDelivery = at, true
		}
		if e.Status.IsException() && (!s.hasExcepted || at.Before(s.exception)) {
			s.exception, s.hasExcepted = at, true
		}
	}
	return out, first, last
}

// count returns the shipments that keep says count whose first delivery,
// and whose first exception, fall on a UTC day in [from, to].
func count(ships map[string]*shipmentTruth, from, to time.Time, keep func(*shipmentTruth) bool) (delivered, exceptions int64) {
	in := func(at time.Time) bool {
		d := at.UTC().Truncate(24 * time.Hour)
		return !d.Before(from) && !d.After(to)
	}
	for _, s := range ships {
		if !keep(s) {
			continue
		}
		if s.hasDelivery && in(s.delivered) {
			delivered++
		}
		if s.hasExcepted && in(s.exception) {
			exceptions++
		}
	}
	return delivered, exceptions
}

// TestGenerateToClickHouse loads a workload straight into ClickHouse and
// checks the scorecard's totals against counts taken from the generator's
// events, the partitions against those the Kafka producer picks, and that
// loading the same workload again changes nothing.
func TestGenerateToClickHouse(t *testing.T) {
	addr, db := chtest.DB(t)
	ch := "clickhouse://" + addr + "/" + db
	const shipments, seed, partitions = 2000, 7, 3
	args := []string{"generate", "--shipments", "2000", "--seed", "7", "--to-clickhouse", ch, "--partitions", "3", "--flush-events", "3000"}
	if code, _, errs := cli(t, args...); code != 1 || !strings.Contains(errs, "shiplens migrate") {
		t.Fatalf("before migrate: exit %d, want 1 with a migrate hint: %s", code, errs)
	}
	if code, _, errs := cli(t, "migrate", "--clickhouse", ch); code != 0 {
		t.Fatal(errs)
	}
	code, _, errs := cli(t, args...)
	if code != 0 || !strings.Contains(errs, "loaded 2000 shipments") {
		t.Fatalf("load: exit %d\n%s", code, errs)
	}
	if strings.Contains(errs, " 0 facts rows") || strings.Contains(errs, "rejected") {
		t.Fatalf("load summary: %s", errs)
	}

	ships, first, last := truth(t, gen.Config{Shipments: shipments, Seed: seed})
	if len(ships) != shipments {
		t.Fatalf("%d tracking numbers for %d shipments", len(ships), shipments)
	}
	day := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
	all := func(*shipmentTruth) bool { return true }
	// The busiest service and merchant, so that their counts are not zero.
	services, merchants := map[string]int{}, map[string]int{}
	for _, s := range ships {
		services[s.service]++
		merchants[s.merchant]++
	}
	busiest := func(m map[string]int) (best string) {
		most := 0
		for k, n := range m {
			if k != "" && (n > most || n == most && k < best) {
				best, most = k, n
			}
		}
		return best
	}
	service, merchant := busiest(services), busiest(merchants)
	type check struct {
		from, to time.Time
		filters  []string
		keep     func(*shipmentTruth) bool
	}
	checks := []check{
		{day(first), day(last), nil, all},
		{day(first).AddDate(0, 0, 20), day(first).AddDate(0, 0, 49), nil, all}, // 30 days
		{day(first), day(last), []string{"--service", service}, func(s *shipmentTruth) bool { return s.service == service }},
		{day(first), day(last), []string{"--merchant", merchant}, func(s *shipmentTruth) bool { return s.merchant == merchant }},
		{day(first), day(last), []string{"--service", service, "--merchant", merchant}, func(s *shipmentTruth) bool {
			return s.service == service && s.merchant == merchant
		}},
	}
	report := func(c check) (string, int64, int64) {
		t.Helper()
		args := append([]string{"report", "carriers", "--clickhouse", ch, "--format", "json",
			"--from", c.from.Format(time.DateOnly), "--to", c.to.Format(time.DateOnly)}, c.filters...)
		code, out, errs := cli(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		var rows []struct{ Delivered, Exceptions int64 }
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		var d, e int64
		for _, r := range rows {
			d, e = d+r.Delivered, e+r.Exceptions
		}
		return out, d, e
	}
	before := make([]string, len(checks))
	for i, c := range checks {
		wantD, wantE := count(ships, c.from, c.to, c.keep)
		out, d, e := report(c)
		if d != wantD || e != wantE || wantD == 0 || wantE == 0 {
			t.Errorf("%s..%s %v: delivered %d, exceptions %d; the events say %d and %d",
				c.from.Format(time.DateOnly), c.to.Format(time.DateOnly), c.filters, d, e, wantD, wantE)
		}
		before[i] = out
	}

	// Each shipment is stored under the partition the Kafka producer sends
	// its events to.
	emb, err := broker.Start(broker.Options{Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	if code, _, errs := cli(t, "generate", "--shipments", "2000", "--seed", "7", "--brokers", emb.Addrs()[0]); code != 0 {
		t.Fatal(errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kafkaPartition := map[string]int{}
	if err := kafkaadmin.ReadAll(ctx, emb.Addrs(), schemas.EventsTopic, func(m *kafka.Message) error {
		kafkaPartition[string(m.Key)] = m.Partition
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	conn, err := chserver.Connect(ctx, addr, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, "SELECT DISTINCT tracking_number, partition FROM shipment_facts")
	if err != nil {
		t.Fatal(err)
	}
	stored, used := 0, map[int]bool{}
	for rows.Next() {
		var (
			tn string
			p  uint16
		)
		if err := rows.Scan(&tn, &p); err != nil {
			t.Fatal(err)
		}
		stored++
		used[int(p)] = true
		if want, ok := kafkaPartition[tn]; !ok || int(p) != want {
			t.Errorf("%s stored from partition %d; Kafka has it in partition %d (%v)", tn, p, want, ok)
		}
	}
	rows.Close()
	if stored != shipments || len(kafkaPartition) != shipments || len(used) != partitions {
		t.Fatalf("%d (tracking number, partition) pairs stored, %d tracking numbers in Kafka, partitions %v", stored, len(kafkaPartition), used)
	}

	// The same workload again: every shipment is found in storage, so
	// nothing in the aggregates changes.
	code, _, errs = cli(t, args...)
	if code != 0 || !strings.Contains(errs, " 0 aggregate rows") {
		t.Fatalf("second load: exit %d, want 0 aggregate rows written\n%s", code, errs)
	}
	for i, c := range checks {
		if out, _, _ := report(c); out != before[i] {
			t.Errorf("%v after loading twice:\n%s\nwant\n%s", c.filters, out, before[i])
		}
	}
}
