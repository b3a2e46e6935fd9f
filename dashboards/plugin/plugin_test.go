package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental/datasourcetest"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/reference"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

func TestMain(m *testing.M) {
	chtest.Main(m) // exits; the plugin's server dies with the process
}

// The tests run the plugin as Grafana does: datasource.Manage's handler
// behind a real gRPC server (datasourcetest), called through the plugin
// protocol's client, against a real ClickHouse server holding a generated
// workload written the way the processor writes it. Expected figures come
// from the raw events (internal/reference), from the records the test
// wrote, or from arithmetic on them, never from the code under test.

// harness is a plugin served over gRPC and a database it reads.
type harness struct {
	client *datasourcetest.TestPluginClient
	addr   string // ClickHouse
	db     string
	st     *store.Store
}

// dataSources numbers the data sources of the test binary: the plugin's
// instance manager keys instances by id and uid.
var dataSources atomic.Int64

var (
	served   sync.Once
	plugin   datasourcetest.TestPlugin
	serveErr error
)

// serve starts the plugin over gRPC on a free port, once per test binary
// (the SDK registers its metrics globally), and returns its client. Each
// test uses data sources of its own: instances are per data source.
func serve(t *testing.T) *datasourcetest.TestPluginClient {
	t.Helper()
	served.Do(func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			serveErr = err
			return
		}
		addr := l.Addr().String()
		l.Close()
		plugin, serveErr = datasourcetest.Manage(NewDatasource, datasourcetest.ManageOpts{Address: addr})
	})
	if serveErr != nil {
		t.Fatalf("cannot serve the plugin: %v", serveErr)
	}
	return plugin.Client
}

// newHarness migrates a fresh database and serves the plugin.
func newHarness(t *testing.T) *harness {
	t.Helper()
	addr, db := chtest.DB(t)
	ctx := context.Background()
	cfg := store.Config{Addr: addr, Database: db}
	if _, err := store.Migrate(ctx, cfg, nil); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &harness{client: serve(t), addr: addr, db: db, st: st}
}

// settings returns instance settings of a new data source (each call a new
// Grafana data source, so a new instance).
func (h *harness) settings(jsonData map[string]string, secure map[string]string) *backend.DataSourceInstanceSettings {
	id := dataSources.Add(1)
	b, _ := json.Marshal(jsonData)
	return &backend.DataSourceInstanceSettings{
		ID: id, UID: "shiplens-" + strconv.FormatInt(id, 10), Name: "shiplens", Type: ID,
		JSONData: b, DecryptedSecureJSONData: secure, Updated: time.Unix(1_790_000_000, 0),
	}
}

// good returns the settings of the harness's database.
func (h *harness) good() *backend.DataSourceInstanceSettings {
	return h.settings(map[string]string{"clickhouse": h.addr, "database": h.db, "username": "default"}, nil)
}

func pluginContext(s *backend.DataSourceInstanceSettings) backend.PluginContext {
	return backend.PluginContext{OrgID: 1, PluginID: ID, DataSourceInstanceSettings: s}
}

// query runs one query of model m over [from, to] and returns its response.
func (h *harness) query(t *testing.T, s *backend.DataSourceInstanceSettings, m map[string]any, from, to time.Time) backend.DataResponse {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	qt, _ := m["queryType"].(string)
	resp, err := h.client.QueryData(context.Background(), &backend.QueryDataRequest{
		PluginContext: pluginContext(s),
		Queries: []backend.DataQuery{{RefID: "A", QueryType: qt, JSON: b, TimeRange: backend.TimeRange{From: from, To: to},
			Interval: time.Second, MaxDataPoints: 1000}},
	})
	if err != nil {
		t.Fatalf("QueryData %s: %v", b, err)
	}
	r, ok := resp.Responses["A"]
	if !ok {
		t.Fatalf("QueryData %s: no response A", b)
	}
	return r
}

// frame runs a query that must succeed with one frame.
func (h *harness) frame(t *testing.T, s *backend.DataSourceInstanceSettings, m map[string]any, from, to time.Time) *data.Frame {
	t.Helper()
	r := h.query(t, s, m, from, to)
	if r.Error != nil {
		t.Fatalf("query %v: %v", m, r.Error)
	}
	if len(r.Frames) != 1 {
		t.Fatalf("query %v: %d frames, want 1", m, len(r.Frames))
	}
	return r.Frames[0]
}

// rows returns the frame as one map per row, field name to value, with
// nullable values dereferenced (nil for null).
func rows(t *testing.T, f *data.Frame) []map[string]any {
	t.Helper()
	n, err := f.RowLen()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, n)
	for i := range n {
		out[i] = map[string]any{}
		for _, fl := range f.Fields {
			v := fl.At(i)
			switch p := v.(type) {
			case *float64:
				if p == nil {
					v = nil
				} else {
					v = *p
				}
			case *int64:
				if p == nil {
					v = nil
				} else {
					v = *p
				}
			case *time.Time:
				if p == nil {
					v = nil
				} else {
					v = *p
				}
			}
			out[i][fl.Name] = v
		}
	}
	return out
}

// fieldConfig returns the unit and display name of field name.
func fieldConfig(t *testing.T, f *data.Frame, name string) (unit, display string) {
	t.Helper()
	fl, _ := f.FieldByName(name)
	if fl == nil {
		t.Fatalf("frame %s has no field %s", f.Name, name)
	}
	if fl.Config == nil {
		return "", ""
	}
	return fl.Config.Unit, fl.Config.DisplayNameFromDS
}

// fieldType checks the type of field name.
func fieldType(t *testing.T, f *data.Frame, name string, want data.FieldType) {
	t.Helper()
	fl, _ := f.FieldByName(name)
	if fl == nil {
		t.Fatalf("frame %s has no field %s", f.Name, name)
	}
	if fl.Type() != want {
		t.Errorf("frame %s field %s is %s, want %s", f.Name, name, fl.Type(), want)
	}
}

// workload writes a generated workload through one partition, as the
// processor's owner of it would, and returns its events.
func (h *harness) workload(t *testing.T, shipments int, seed int64) []schemas.Event {
	t.Helper()
	g, err := gen.New(gen.Config{Shipments: shipments, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	events := g.Events()
	ctx := context.Background()
	p := analytics.NewPartition()
	for i := range events {
		p.Apply(&events[i], false)
	}
	found := map[string]analytics.Shipment{}
	if err := h.st.Lookup(ctx, 0, p.Misses(), func(tn string, s analytics.Shipment) { found[tn] = s }); err != nil {
		t.Fatal(err)
	}
	p.Resolve(func(tn string) (analytics.Shipment, bool) { s, ok := found[tn]; return s, ok })
	facts, days := p.Pending(0)
	if err := h.st.WriteDays(ctx, days, []analytics.Advance{{Partition: 0, From: 0, To: int64(len(events))}}, false); err != nil {
		t.Fatal(err)
	}
	if err := h.st.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
	p.Written()
	return events
}

var (
	rangeFrom = time.Date(2026, 8, 25, 0, 0, 0, 0, time.UTC)
	rangeTo   = time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC)
)

// TestScorecard: the scorecard frame of the whole range, of one week, of
// one carrier and rolled up per carrier equals the reference scorecard of
// the raw events (counts exact, quantiles within the sketch's 1%).
func TestScorecard(t *testing.T) {
	h := newHarness(t)
	events := h.workload(t, 600, 11)
	s := h.good()

	check := func(name string, m map[string]any, from, to time.Time, want []reference.Row) {
		t.Run(name, func(t *testing.T) {
			f := h.frame(t, s, m, from, to)
			if f.Name != "scorecard" {
				t.Errorf("frame name %q", f.Name)
			}
			reference.Compare(t, rows(t, f), want)
		})
	}
	all := reference.Scorecard(events, rangeFrom, rangeTo)
	check("whole range", map[string]any{"queryType": "scorecard"}, rangeFrom, rangeTo, all)

	// Grafana's range is instants; the scorecard takes their UTC days.
	weekFrom, weekTo := time.Date(2026, 9, 14, 9, 30, 0, 0, time.UTC), time.Date(2026, 9, 20, 18, 0, 0, 0, time.UTC)
	week := reference.Scorecard(events, weekFrom, weekTo)
	check("one week", map[string]any{"queryType": "scorecard"}, weekFrom, weekTo, week)

	var carrier string
	var most int64
	for _, r := range all {
		if r.Delivered > most {
			carrier, most = r.Carrier, r.Delivered
		}
	}
	var ofCarrier []reference.Row
	for _, r := range all {
		if r.Carrier == carrier {
			ofCarrier = append(ofCarrier, r)
		}
	}
	check("carrier "+carrier, map[string]any{"queryType": "scorecard", "carrier": strings.ToUpper(carrier)}, rangeFrom, rangeTo, ofCarrier)

	// Per carrier: the reference of the events with every lane made one.
	oneLane := slices.Clone(events)
	for i := range oneLane {
		oneLane[i].OriginCountry, oneLane[i].DestinationCountry = "", ""
	}
	check("per carrier", map[string]any{"queryType": "scorecard", "groupBy": "carrier"}, rangeFrom, rangeTo, reference.Scorecard(oneLane, rangeFrom, rangeTo))

	t.Run("frame", func(t *testing.T) {
		f := h.frame(t, s, map[string]any{"queryType": "scorecard"}, rangeFrom, rangeTo)
		for name, want := range map[string][2]string{
			"on_time_rate": {"percentunit", "On-time rate"}, "transit_hours_p50": {"h", "Transit p50"}, "transit_hours_p90": {"h", "Transit p90"},
			"customs_dwell_hours_p50": {"h", "Customs dwell p50"}, "customs_dwell_hours_p90": {"h", "Customs dwell p90"},
			"delivered": {"short", "Delivered"}, "carrier": {"", "Carrier"},
		} {
			if unit, display := fieldConfig(t, f, name); unit != want[0] || display != want[1] {
				t.Errorf("%s: unit %q, display %q; want %q, %q", name, unit, display, want[0], want[1])
			}
		}
		fieldType(t, f, "carrier", data.FieldTypeString)
		fieldType(t, f, "delivered", data.FieldTypeInt64)
		fieldType(t, f, "exceptions", data.FieldTypeInt64)
		fieldType(t, f, "on_time_rate", data.FieldTypeNullableFloat64)
		fieldType(t, f, "transit_hours_p50", data.FieldTypeNullableFloat64)
	})

	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			m    map[string]any
			want string
		}{
			{map[string]any{"queryType": "scorecard", "groupBy": "week"}, `unknown groupBy "week"`},
			{map[string]any{"queryType": "carriers"}, `unknown queryType "carriers"`},
			{map[string]any{"queryType": "quote", "lane": "CNUS"}, `invalid lane "CNUS"`},
			{map[string]any{"queryType": "eta_lookup"}, "needs a trackingNumber"},
		} {
			r := h.query(t, s, c.m, rangeFrom, rangeTo)
			if r.Error == nil || !strings.Contains(r.Error.Error(), c.want) || r.Status != backend.StatusBadRequest {
				t.Errorf("%v: status %d, error %v; want 400 with %q", c.m, r.Status, r.Error, c.want)
			}
		}
	})
}

// TestLanePercentiles: per delivery day, the p50 and p90 of transit times
// and the deliveries equal the reference of that day's deliveries, for a
// carrier on a lane and for a lane over every carrier.
func TestLanePercentiles(t *testing.T) {
	h := newHarness(t)
	events := h.workload(t, 600, 12)
	s := h.good()

	all := reference.Scorecard(events, rangeFrom, rangeTo)
	var top reference.Row
	for _, r := range all {
		if r.Lane != "" && r.Delivered > top.Delivered {
			top = r
		}
	}
	// The lane over every carrier: the reference of the events with one carrier.
	oneCarrier := slices.Clone(events)
	for i := range oneCarrier {
		oneCarrier[i].Carrier = "any"
	}
	for _, c := range []struct {
		name   string
		m      map[string]any
		events []schemas.Event
		key    [2]string
	}{
		{"carrier and lane", map[string]any{"queryType": "lane_percentiles", "carrier": top.Carrier, "lane": top.Lane}, events, [2]string{top.Carrier, top.Lane}},
		{"lane", map[string]any{"queryType": "lane_percentiles", "lane": strings.ToLower(top.Lane)}, oneCarrier, [2]string{"any", top.Lane}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := h.frame(t, s, c.m, rangeFrom, rangeTo)
			if f.Meta == nil || f.Meta.Type != data.FrameTypeTimeSeriesWide {
				t.Errorf("frame meta %+v, want a wide time series", f.Meta)
			}
			fieldType(t, f, "time", data.FieldTypeTime)
			fieldType(t, f, "transit_hours_p50", data.FieldTypeFloat64)
			fieldType(t, f, "delivered", data.FieldTypeInt64)
			if unit, _ := fieldConfig(t, f, "transit_hours_p90"); unit != "h" {
				t.Errorf("p90 unit %q", unit)
			}
			got := rows(t, f)
			byDay := map[int64]map[string]any{}
			for _, r := range got {
				byDay[r["time"].(time.Time).Unix()] = r
			}
			var total int64
			for d := rangeFrom; !d.After(rangeTo); d = d.AddDate(0, 0, 1) {
				var want *reference.Row
				for _, r := range reference.Scorecard(c.events, d, d) {
					if r.Carrier == c.key[0] && r.Lane == c.key[1] && r.Delivered > 0 {
						want = &r
					}
				}
				g := byDay[d.Unix()]
				switch {
				case want == nil && g == nil:
					continue
				case want == nil:
					t.Errorf("%s: %v, reference has no delivery", d.Format(time.DateOnly), g)
					continue
				case g == nil:
					t.Errorf("%s: missing, reference %d delivered", d.Format(time.DateOnly), want.Delivered)
					continue
				}
				total += want.Delivered
				if g["delivered"] != want.Delivered {
					t.Errorf("%s: delivered %v, reference %d", d.Format(time.DateOnly), g["delivered"], want.Delivered)
				}
				for _, q := range []struct {
					name string
					want *float64
				}{{"transit_hours_p50", want.TransitHoursP50}, {"transit_hours_p90", want.TransitHoursP90}} {
					if v := g[q.name].(float64); math.Abs(v-*q.want) > 0.01*math.Max(*q.want, 1) {
						t.Errorf("%s: %s %v, reference %v", d.Format(time.DateOnly), q.name, v, *q.want)
					}
				}
			}
			if total == 0 || len(got) < 5 {
				t.Errorf("%d deliveries over %d days: the comparison proves little", total, len(got))
			}
		})
	}
}

// The ETA fixtures: a model learned from two carriers on CN-US, dhl
// express always 48 h from pickup and yanwen economy always 240 h, and
// stored predictions.
var (
	etaStart   = uint32(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Unix())
	etaVersion = uint32(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix())
)

func etaModel() *eta.Model {
	m := eta.New(eta.Config{})
	var ds []eta.Delivery
	for i := range 200 {
		for _, c := range []struct {
			carrier, service string
			hours            uint32
		}{{"dhl", "express", 48}, {"yanwen", "economy", 240}} {
			start := etaStart + uint32(i)*3*3600
			ds = append(ds, eta.Delivery{TrackingNumber: fmt.Sprintf("%s%d", c.carrier, i), Carrier: c.carrier, Service: c.service, Lane: "CN-US",
				Start: start, DeliveredAt: start + c.hours*3600, Visits: []eta.Visit{{At: start, Milestone: eta.NewMilestone(schemas.PickedUp, false)}}})
		}
	}
	m.Learn(ds, nil, etaVersion)
	return m
}

func (h *harness) writeETA(t *testing.T) *eta.Model {
	t.Helper()
	ctx := context.Background()
	m := etaModel()
	blob, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.SaveModel(ctx, m.Version(), blob); err != nil {
		t.Fatal(err)
	}
	return m
}

func unix(t time.Time) uint32 { return uint32(t.Unix()) }

// TestETALookup: the predictions stored for tracking numbers come back as
// written (made after the model's day, so not predicted again), a
// delivered shipment's as its delivery, an unknown number as a notice.
func TestETALookup(t *testing.T) {
	h := newHarness(t)
	h.writeETA(t)
	ctx := context.Background()
	asOf := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC) // after version + 1 day
	p10, p50, p90 := asOf.Add(30*time.Hour), asOf.Add(50*time.Hour), asOf.Add(90*time.Hour)
	promised := time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC)
	delivered := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	recs := []eta.Record{
		{TrackingNumber: "LX1CN", Carrier: "dhl", Service: "express", Lane: "CN-US", Merchant: "acme", Status: schemas.CustomsClearance,
			PromisedAt: unix(promised), Rev: 1, Prediction: eta.Prediction{AsOf: unix(asOf.Add(-24 * time.Hour)), Milestone: eta.NewMilestone(schemas.InTransit, false),
				P10: unix(p10), P50: unix(p50), P90: unix(p90), Version: etaVersion, Basis: eta.BasisCarrierLane}},
		{TrackingNumber: "LX1CN", Carrier: "dhl", Service: "express", Lane: "CN-US", Merchant: "acme", Status: schemas.CustomsClearance,
			PromisedAt: unix(promised), Rev: 2, Prediction: eta.Prediction{AsOf: unix(asOf), Milestone: eta.NewMilestone(schemas.CustomsClearance, true),
				P10: unix(p10), P50: unix(p50), P90: unix(p90), Version: etaVersion, Basis: eta.BasisCarrierServiceLane}},
		{TrackingNumber: "RR2", Carrier: "yanwen", Lane: "CN-US", Status: schemas.Delivered, Rev: 5,
			Prediction: eta.Prediction{AsOf: unix(delivered), Milestone: eta.NewMilestone(schemas.Delivered, true),
				P10: unix(delivered), P50: unix(delivered), P90: unix(delivered), Version: etaVersion, Basis: eta.BasisDelivered}},
	}
	if err := h.st.WritePredictions(ctx, recs); err != nil {
		t.Fatal(err)
	}
	f := h.frame(t, h.good(), map[string]any{"queryType": "eta_lookup", "trackingNumber": "LX1CN, RR2 NOPE", "lang": "de"}, rangeFrom, rangeTo)
	got := rows(t, f)
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2: %v", len(got), got)
	}
	want := []map[string]any{
		{"tracking_number": "LX1CN", "carrier": "dhl", "service": "express", "lane": "CN-US", "status": "customs_clearance",
			"milestone": "customs_clearance", "predicted_delivery": p50, "p10": p10, "p90": p90, "as_of": asOf,
			"basis": "carrier_service_lane", "promised_at": promised, "model_version": time.Unix(int64(etaVersion), 0).UTC()},
		{"tracking_number": "RR2", "carrier": "yanwen", "service": "", "lane": "CN-US", "status": "delivered",
			"predicted_delivery": delivered, "p10": delivered, "p90": delivered, "as_of": delivered, "basis": "delivered", "promised_at": nil},
	}
	for i, w := range want {
		for k, v := range w {
			if g := got[i][k]; !equal(g, v) {
				t.Errorf("row %d %s = %v, want %v", i, k, g, v)
			}
		}
	}
	if txt := got[0]["status_text"].(string); txt == "" || txt == "customs_clearance" {
		t.Errorf("status text in German: %q", txt)
	}
	fieldType(t, f, "predicted_delivery", data.FieldTypeTime)
	fieldType(t, f, "promised_at", data.FieldTypeNullableTime)
	if f.Meta == nil || len(f.Meta.Notices) != 1 || !strings.Contains(f.Meta.Notices[0].Text, "NOPE") {
		t.Errorf("notices %+v, want one naming NOPE", f.Meta)
	}
}

func equal(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}

// TestQuote: the what-if ranks dhl express (48 h) before yanwen economy
// (240 h) for a four-day deadline, with p50 near those hours and
// P(on time) near 1 and 0; every figure is that of GET /v1/eta/quote's
// answer from the same model.
func TestQuote(t *testing.T) {
	h := newHarness(t)
	m := h.writeETA(t)
	shipped := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	deadline := shipped.Add(96 * time.Hour)
	f := h.frame(t, h.good(), map[string]any{"queryType": "quote", "lane": "cn-us", "shippedAt": shipped.Format(time.RFC3339),
		"deadline": deadline.Format(time.RFC3339)}, rangeFrom, rangeTo)
	got := rows(t, f)
	if len(got) != 2 {
		t.Fatalf("%d options, want 2: %v", len(got), got)
	}
	for i, w := range []struct {
		carrier, service string
		hours            float64
		onTime           func(float64) bool
	}{
		{"dhl", "express", 48, func(p float64) bool { return p > 0.95 }},
		{"yanwen", "economy", 240, func(p float64) bool { return p < 0.05 }},
	} {
		g := got[i]
		if g["rank"] != int64(i+1) || g["carrier"] != w.carrier || g["service"] != w.service {
			t.Errorf("option %d: %v, want %s %s", i+1, g, w.carrier, w.service)
		}
		if hrs := g["p50"].(time.Time).Sub(shipped).Hours(); math.Abs(hrs-w.hours) > 0.05*w.hours {
			t.Errorf("%s: p50 %.1f h after shipping, want about %.0f", w.carrier, hrs, w.hours)
		}
		if hrs := g["transit_hours_p50"].(float64); math.Abs(hrs-w.hours) > 0.05*w.hours {
			t.Errorf("%s: transit p50 %.1f h, want about %.0f", w.carrier, hrs, w.hours)
		}
		if p, ok := g["on_time_probability"].(float64); !ok || !w.onTime(p) {
			t.Errorf("%s: P(on time) %v", w.carrier, g["on_time_probability"])
		}
	}
	want := eta.NewQuoteResponse(m.NewPredictor(), "CN-US", "", "", unix(shipped), unix(deadline))
	for i, o := range want.Options {
		g := got[i]
		if !g["p10"].(time.Time).Equal(o.P10) || !g["p50"].(time.Time).Equal(o.PredictedDelivery) || !g["p90"].(time.Time).Equal(o.P90) ||
			g["basis"] != o.Basis || g["deliveries"] != o.Deliveries || g["on_time_probability"] != *o.OnTime {
			t.Errorf("option %d = %v, the HTTP API's %+v", i+1, g, o)
		}
	}
	if unit, display := fieldConfig(t, f, "on_time_probability"); unit != "percentunit" || display != "P(on time)" {
		t.Errorf("on_time_probability: unit %q, display %q", unit, display)
	}

	// Without a deadline there is no probability.
	g := rows(t, h.frame(t, h.good(), map[string]any{"queryType": "quote", "lane": "CN-US", "carrier": "yanwen",
		"shippedAt": shipped.Format(time.RFC3339)}, rangeFrom, rangeTo))
	if len(g) != 1 || g[0]["carrier"] != "yanwen" || g[0]["on_time_probability"] != nil {
		t.Errorf("yanwen without a deadline: %v", g)
	}

	// A database without a model says so.
	empty := newHarness(t)
	r := empty.query(t, empty.good(), map[string]any{"queryType": "quote", "lane": "CN-US"}, rangeFrom, rangeTo)
	if r.Error == nil || !strings.Contains(r.Error.Error(), "no ETA model") {
		t.Errorf("quote without a model: %v", r.Error)
	}
}

// alert returns a transition of alert id.
func alert(id string, seq uint32, typ alerts.Type, state alerts.State, carrier, lane string, opened, at time.Time) alerts.Alert {
	a := alerts.Alert{ID: id, Seq: seq, Change: alerts.Opened, Type: typ, Rule: string(typ), Tier: alerts.Warning, State: state,
		TrackingNumber: "TN-" + id, Carrier: carrier, Lane: lane, Merchant: "acme", Status: "in_transit",
		LastEventAt: opened.Add(-72 * time.Hour), OpenedAt: opened, At: at, Detail: "no scan for 72 h"}
	if seq > 1 {
		a.Change = alerts.Escalated
		a.Tier = alerts.Critical
	}
	if state == alerts.Resolved {
		a.Change, a.ResolvedAt = alerts.Closed, at
	}
	a.TransitionID = alerts.TransitionID(id, a.Change, seq)
	return a
}

// TestOpenAlerts: the alerts whose latest transition is open, newest
// opened first, with the filters and the limit.
func TestOpenAlerts(t *testing.T) {
	h := newHarness(t)
	day := func(d int) time.Time { return time.Date(2026, 10, d, 12, 0, 0, 0, time.UTC) }
	as := []alerts.Alert{
		alert("a1", 1, alerts.Stalled, alerts.Open, "dhl", "CN-US", day(1), day(1)),
		alert("a2", 1, alerts.Stalled, alerts.Open, "dhl", "CN-US", day(2), day(2)),
		alert("a2", 2, alerts.Stalled, alerts.Resolved, "dhl", "CN-US", day(2), day(3)), // resolved
		alert("a3", 1, alerts.Stalled, alerts.Open, "ups", "DE-FR", day(4), day(4)),
		alert("a3", 2, alerts.Stalled, alerts.Open, "ups", "DE-FR", day(4), day(6)), // escalated
		alert("a4", 1, alerts.CustomsHeld, alerts.Open, "dhl", "CN-GB", day(5), day(5)),
	}
	if err := h.st.WriteAlerts(context.Background(), as); err != nil {
		t.Fatal(err)
	}
	s := h.good()
	ids := func(f *data.Frame) string {
		var out []string
		for _, r := range rows(t, f) {
			out = append(out, r["alert_id"].(string)+"/"+r["tier"].(string))
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		m    map[string]any
		want string
	}{
		{map[string]any{}, "a4/warning a3/critical a1/warning"},
		{map[string]any{"carrier": "dhl"}, "a4/warning a1/warning"},
		{map[string]any{"alertType": "stalled"}, "a3/critical a1/warning"},
		{map[string]any{"lane": "de-fr"}, "a3/critical"},
		{map[string]any{"merchant": "zeta"}, ""},
	} {
		c.m["queryType"] = "open_alerts"
		if got := ids(h.frame(t, s, c.m, rangeFrom, rangeTo)); got != c.want {
			t.Errorf("%v: %q, want %q", c.m, got, c.want)
		}
	}
	f := h.frame(t, s, map[string]any{"queryType": "open_alerts", "limit": 2}, rangeFrom, rangeTo)
	if got := ids(f); got != "a4/warning a3/critical" || f.Meta == nil || len(f.Meta.Notices) != 1 {
		t.Errorf("limit 2: %q, meta %+v; want the two newest and a notice", got, f.Meta)
	}
	f = h.frame(t, s, map[string]any{"queryType": "open_alerts", "openedInRange": true}, day(3), day(4).Add(time.Hour))
	if got := ids(f); got != "a3/critical" {
		t.Errorf("opened in range: %q", got)
	}
	r := rows(t, f)[0]
	if !equal(r["opened_at"], day(4)) || !equal(r["at"], day(6)) || r["escalated_at"] != nil || r["tracking_number"] != "TN-a3" {
		t.Errorf("a3 row: %v", r)
	}
	fieldType(t, f, "opened_at", data.FieldTypeTime)
	fieldType(t, f, "attempts", data.FieldTypeInt64)
}

// stat is a pipeline_stats row.
func stat(at time.Time, partition, events int, lag int64) analytics.FlushStat {
	return analytics.FlushStat{At: at, Processor: "host:1", Partition: partition, Events: events, Applied: events, Lag: lag,
		Flush: 20 * time.Millisecond, Insert: 10 * time.Millisecond}
}

// TestThroughputQuery: per second, the events of every flush in it and the
// sum of each partition's latest lag (kept for a minute without a flush);
// the frame names the live channel of the data source.
func TestThroughputQuery(t *testing.T) {
	h := newHarness(t)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-2 * time.Minute)
	sec := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	if err := h.st.WriteStats(context.Background(), []analytics.FlushStat{
		stat(sec(0), 0, 300, 40), stat(sec(0), 1, 200, 60),
		stat(sec(1), 0, 100, 10), stat(sec(1), 1, 50, 55),
		stat(sec(5), 1, 70, 0),
	}); err != nil {
		t.Fatal(err)
	}
	s := h.good()
	f := h.frame(t, s, map[string]any{"queryType": "throughput"}, sec(-2), sec(6))
	if f.Meta == nil || f.Meta.Channel != "ds/"+s.UID+"/throughput" {
		t.Errorf("meta %+v, want channel ds/%s/throughput", f.Meta, s.UID)
	}
	if unit, _ := fieldConfig(t, f, "events_per_second"); unit != "eps" {
		t.Errorf("unit %q", unit)
	}
	got := rows(t, f)
	want := []struct {
		eps float64
		lag any
	}{{0, nil}, {0, nil}, {500, int64(40 + 60)}, {150, int64(10 + 55)}, {0, int64(65)}, {0, int64(65)}, {0, int64(65)}, {70, int64(10 + 0)}, {0, int64(10)}}
	if len(got) != len(want) {
		t.Fatalf("%d seconds, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if !equal(got[i]["time"], sec(i-2)) || got[i]["events_per_second"] != w.eps || got[i]["lag"] != w.lag {
			t.Errorf("second %d: %v, want %v events/s, lag %v", i-2, got[i], w.eps, w.lag)
		}
	}
}

// TestCallResource: the carriers and lanes of the query editor are those
// with deliveries or exceptions in the reference scorecard.
func TestCallResource(t *testing.T) {
	h := newHarness(t)
	events := h.workload(t, 300, 13)
	all := reference.Scorecard(events, time.Unix(0, 0), rangeTo)
	carriers, lanes, dhlLanes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range all {
		carriers[r.Carrier] = true
		if r.Lane != "" {
			lanes[r.Lane] = true
			if r.Carrier == "dhl" {
				dhlLanes[r.Lane] = true
			}
		}
	}
	sorted := func(m map[string]bool) []string {
		out := []string{}
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	s := h.good()
	call := func(path string) (int, []byte) {
		var resp *backend.CallResourceResponse
		err := h.client.CallResource(context.Background(), &backend.CallResourceRequest{PluginContext: pluginContext(s), Path: strings.Split(path, "?")[0],
			Method: "GET", URL: path}, backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { resp = r; return nil }))
		if err != nil || resp == nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return resp.Status, resp.Body
	}
	for path, want := range map[string][]string{"carriers": sorted(carriers), "lanes": sorted(lanes), "lanes?carrier=dhl": sorted(dhlLanes)} {
		status, body := call(path)
		var got []string
		if err := json.Unmarshal(body, &got); status != 200 || err != nil || !slices.Equal(got, want) {
			t.Errorf("GET %s: %d %s, want %v", path, status, body, want)
		}
	}
	if len(dhlLanes) == 0 || len(carriers) < 3 {
		t.Errorf("the workload has too few carriers (%d) or dhl lanes (%d)", len(carriers), len(dhlLanes))
	}
	if status, _ := call("carriers?from=nonsense"); status != 400 {
		t.Errorf("bad from: status %d", status)
	}
	if status, _ := call("shipments"); status != 404 {
		t.Errorf("unknown resource: status %d", status)
	}
}

// latestMigrationFile reads the highest NNN of schemas/clickhouse/NNN_*.sql.
func latestMigrationFile(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("../../schemas/clickhouse/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	v := 0
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		v = max(v, n)
	}
	return v
}

// TestCheckHealth: OK with the schema version; a clear error for a wrong
// password, an unknown user, an unreachable host, a missing database, an
// unmigrated one and unusable settings.
func TestCheckHealth(t *testing.T) {
	h := newHarness(t)
	health := func(s *backend.DataSourceInstanceSettings) *backend.CheckHealthResult {
		t.Helper()
		r, err := h.client.CheckHealth(context.Background(), &backend.CheckHealthRequest{PluginContext: pluginContext(s)})
		if err != nil {
			t.Fatalf("CheckHealth: %v", err)
		}
		return r
	}
	version := latestMigrationFile(t)
	r := health(h.good())
	t.Logf("%s", r.Message)
	if r.Status != backend.HealthStatusOk || !strings.Contains(r.Message, fmt.Sprintf("schema version %d", version)) ||
		!strings.Contains(r.Message, "ClickHouse 18.") && os.Getenv(chtest.EnvAddr) == "" {
		t.Errorf("healthy: %v %q, want OK naming schema version %d and the server", r.Status, r.Message, version)
	}
	var details map[string]any
	if err := json.Unmarshal(r.JSONDetails, &details); err != nil || details["schemaVersion"] != float64(version) {
		t.Errorf("details %s: %v", r.JSONDetails, err)
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := closed.Addr().String()
	closed.Close()
	_, unmigrated := chtest.DB(t) // a database without migrations
	for _, c := range []struct {
		name   string
		json   map[string]string
		secure map[string]string
		want   []string
	}{
		{"wrong password", map[string]string{"clickhouse": h.addr, "database": h.db}, map[string]string{"password": "not-the-password"},
			[]string{"refused user \"default\"", "wrong password"}},
		{"wrong password in the DSN", map[string]string{"clickhouse": "clickhouse://default:nope@" + h.addr + "/" + h.db}, nil,
			[]string{"refused user \"default\""}},
		{"unknown user", map[string]string{"clickhouse": h.addr, "database": h.db, "username": "nobody"}, nil,
			[]string{"refused user \"nobody\""}},
		{"unreachable", map[string]string{"clickhouse": unreachable, "database": h.db}, nil,
			[]string{"cannot reach ClickHouse at " + unreachable, "refused"}},
		{"no database", map[string]string{"clickhouse": h.addr, "database": "no_such_db"}, nil,
			[]string{"has no database no_such_db", "shiplens migrate"}},
		{"not migrated", map[string]string{"clickhouse": h.addr, "database": unmigrated}, nil,
			[]string{"no schema_migrations table", "shiplens migrate"}},
		{"bad address", map[string]string{"clickhouse": "http://" + h.addr}, nil,
			[]string{"invalid shiplens data source settings", "only the native protocol"}},
		{"bad database name", map[string]string{"clickhouse": h.addr, "database": "x; DROP"}, nil,
			[]string{"invalid ClickHouse database name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := health(h.settings(c.json, c.secure))
			t.Logf("%s", r.Message)
			if r.Status != backend.HealthStatusError {
				t.Errorf("status %v %q, want an error", r.Status, r.Message)
			}
			for _, w := range c.want {
				if !strings.Contains(r.Message, w) {
					t.Errorf("message %q lacks %q", r.Message, w)
				}
			}
			if strings.Contains(r.Message, "not-the-password") || strings.Contains(r.Message, ":nope@") {
				t.Errorf("message %q shows the password", r.Message)
			}
		})
	}

	// A query of an unreachable data source fails with the same message.
	resp := h.query(t, h.settings(map[string]string{"clickhouse": unreachable}, nil), map[string]any{"queryType": "scorecard"}, rangeFrom, rangeTo)
	if resp.Error == nil || !strings.Contains(resp.Error.Error(), "cannot reach ClickHouse") {
		t.Errorf("query of an unreachable data source: %v", resp.Error)
	}
}

// recorder is a stream packet sender that hands each frame to a channel.
type recorder struct {
	mu     sync.Mutex
	frames chan *data.Frame
	err    error
}

func (r *recorder) Send(p *backend.StreamPacket) error {
	var f data.Frame
	if err := json.Unmarshal(p.Data, &f); err != nil {
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		return err
	}
	r.frames <- &f
	return nil
}

// stream runs RunStream of path on a data source of h's database until the
// test ends, and returns the frames it sends.
func (h *harness) stream(t *testing.T, path string, opts Options) (chan *data.Frame, *Datasource) {
	t.Helper()
	d, err := New(*h.good(), opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{frames: make(chan *data.Frame, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- d.RunStream(ctx, &backend.RunStreamRequest{PluginContext: pluginContext(h.good()), Path: path}, backend.NewStreamSender(rec))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("RunStream %s: %v", path, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("RunStream %s did not stop", path)
		}
		d.Dispose()
		if rec.err != nil {
			t.Errorf("stream %s sent a frame that does not decode: %v", path, rec.err)
		}
	})
	return rec.frames, d
}

// TestThroughputStream: the stream sends each settled second once, with
// the flushes stored while it runs; a new subscriber gets the recent
// seconds as history.
func TestThroughputStream(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// Beyond the minute a partition's lag counts without a flush.
	before := time.Now().UTC().Truncate(time.Second).Add(-90 * time.Second)
	if err := h.st.WriteStats(ctx, []analytics.FlushStat{stat(before, 0, 700, 5), stat(before, 3, 300, 7)}); err != nil {
		t.Fatal(err)
	}
	opts := Options{PollInterval: 100 * time.Millisecond, Settle: 2 * time.Second}
	frames, d := h.stream(t, PathThroughput, opts)

	sub, err := d.SubscribeStream(ctx, &backend.SubscribeStreamRequest{PluginContext: pluginContext(h.good()), Path: PathThroughput})
	if err != nil || sub.Status != backend.SubscribeStreamStatusOK || sub.InitialData == nil {
		t.Fatalf("subscribe: %+v, %v", sub, err)
	}
	var history data.Frame
	if err := json.Unmarshal(sub.InitialData.Data(), &history); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows(t, &history) {
		if equal(r["time"], before) {
			found = r["events_per_second"] == 1000.0 && r["lag"] == int64(12)
		}
	}
	if n, _ := history.RowLen(); !found || n < 290 || n > 310 {
		t.Errorf("history: %d seconds, the one 90 s ago found with 1000 events/s and lag 12: %v", n, found)
	}
	if r, _ := d.SubscribeStream(ctx, &backend.SubscribeStreamRequest{PluginContext: pluginContext(h.good()), Path: "nope"}); r.Status != backend.SubscribeStreamStatusNotFound {
		t.Errorf("subscribe to nope: %v", r.Status)
	}

	// Flushes of the current second and the next, stored while it streams.
	s1 := time.Now().UTC().Truncate(time.Second)
	s2 := s1.Add(time.Second)
	if err := h.st.WriteStats(ctx, []analytics.FlushStat{stat(s1, 0, 300, 40), stat(s1, 1, 200, 60), stat(s2, 0, 100, 10)}); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]map[string]any{} // by Unix second
	deadline := time.After(15 * time.Second)
	for seen[s2.Unix()+1] == nil {
		select {
		case f := <-frames:
			if f.Name != "throughput" {
				t.Errorf("frame %q", f.Name)
			}
			for _, r := range rows(t, f) {
				ts := r["time"].(time.Time)
				if seen[ts.Unix()] != nil {
					t.Errorf("second %s sent twice", ts)
				}
				if ts.After(time.Now().Add(-opts.Settle)) {
					t.Errorf("second %s sent before it settled", ts)
				}
				seen[ts.Unix()] = r
			}
		case <-deadline:
			t.Fatalf("no frame up to %s within 15 s: %v", s2.Add(time.Second), seen)
		}
	}
	if r := seen[s1.Unix()]; r["events_per_second"] != 500.0 || r["lag"] != int64(100) {
		t.Errorf("second 1: %v, want 500 events/s, lag 100", r)
	}
	if r := seen[s2.Unix()]; r["events_per_second"] != 100.0 || r["lag"] != int64(70) {
		t.Errorf("second 2: %v, want 100 events/s, lag 10 + 60 (partition 1's last)", r)
	}
	if r := seen[s2.Unix()+1]; r["events_per_second"] != 0.0 || r["lag"] != int64(70) {
		t.Errorf("second 3: %v, want 0 events/s, lag 70", r)
	}
}

// TestAlertsStream: transitions stored while the stream runs are sent,
// each once (retried writes and pages of many included); those stored
// before it started are not.
func TestAlertsStream(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	base := time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)
	old := []alerts.Alert{alert("old1", 1, alerts.Stalled, alerts.Open, "dhl", "CN-US", base, base),
		alert("old1", 2, alerts.Stalled, alerts.Open, "dhl", "CN-US", base, base.Add(time.Hour))}
	if err := h.st.WriteAlerts(ctx, old); err != nil {
		t.Fatal(err)
	}
	frames, d := h.stream(t, PathAlerts, Options{AlertPollInterval: 50 * time.Millisecond})

	sub, err := d.SubscribeStream(ctx, &backend.SubscribeStreamRequest{PluginContext: pluginContext(h.good()), Path: PathAlerts})
	if err != nil || sub.InitialData == nil {
		t.Fatalf("subscribe: %+v, %v", sub, err)
	}
	var history data.Frame
	if err := json.Unmarshal(sub.InitialData.Data(), &history); err != nil {
		t.Fatal(err)
	}
	if hr := rows(t, &history); len(hr) != 2 || hr[0]["seq"] != int64(1) || hr[1]["seq"] != int64(2) {
		t.Errorf("history %v, want old1's two transitions in order", hr)
	}

	got := map[string]int{}
	receive := func(until func() bool, what string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for !until() {
			select {
			case f := <-frames:
				for _, r := range rows(t, f) {
					got[r["transition_id"].(string)]++
				}
			case <-deadline:
				t.Fatalf("%s: not within 20 s; got %d transitions", what, len(got))
			}
		}
	}
	// The stream may start reading after some of these were stored; keep
	// storing new ones until one arrives. Those stored before are history.
	var written []alerts.Alert
	for i := 0; len(got) == 0; i++ {
		a := alert(fmt.Sprintf("probe%d", i), 1, alerts.Stalled, alerts.Open, "ups", "DE-FR", base.Add(2*time.Hour), base.Add(time.Duration(2*60+i)*time.Minute))
		if err := h.st.WriteAlerts(ctx, []alerts.Alert{a}); err != nil {
			t.Fatal(err)
		}
		written = append(written, a)
		select {
		case f := <-frames:
			for _, r := range rows(t, f) {
				got[r["transition_id"].(string)]++
			}
		case <-time.After(300 * time.Millisecond):
		}
		if i > 100 {
			t.Fatal("the alerts stream sends nothing")
		}
	}
	// Now: 2500 transitions (more than a page), one of them stored with an
	// earlier at than what was sent (another partition's watermark), and a
	// retried write of one already sent.
	var batch []alerts.Alert
	for i := range 2500 {
		batch = append(batch, alert(fmt.Sprintf("bulk%04d", i), 1, alerts.Slow, alerts.Open, "dhl", "CN-US", base.Add(3*time.Hour), base.Add(3*time.Hour+time.Duration(i%7)*time.Second)))
	}
	last := written[len(written)-1]
	batch = append(batch, alert("late", 1, alerts.Lost, alerts.Open, "4px", "CN-BR", base.Add(time.Hour), last.At.Add(-30*time.Minute)))
	batch = append(batch, last) // already sent
	if err := h.st.WriteAlerts(ctx, batch); err != nil {
		t.Fatal(err)
	}
	receive(func() bool { return got["late:1:opened"] > 0 && got["bulk2499:1:opened"] > 0 && len(got) >= 2502 }, "the batch")
	time.Sleep(300 * time.Millisecond) // a few more polls: nothing again
	for len(frames) > 0 {
		for _, r := range rows(t, <-frames) {
			got[r["transition_id"].(string)]++
		}
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("transition %s sent %d times", id, n)
		}
		if strings.HasPrefix(id, "old1") {
			t.Errorf("transition %s from before the stream was sent", id)
		}
	}
	for _, a := range batch {
		if got[a.TransitionID] != 1 {
			t.Errorf("transition %s not sent", a.TransitionID)
			break
		}
	}
	if got[last.TransitionID] != 1 {
		t.Errorf("the last probe was sent %d times", got[last.TransitionID])
	}
}
