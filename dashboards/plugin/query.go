package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/live"
	"github.com/sourcegraph/conc/pool"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/api"
	"github.com/shiplens/shiplens/store"
)

// The query types, the queryType of a query's JSON.
const (
	QueryScorecard       = "scorecard"
	QueryLanePercentiles = "lane_percentiles"
	QueryETALookup       = "eta_lookup"
	QueryQuote           = "quote"
	QueryOpenAlerts      = "open_alerts"
	QueryThroughput      = "throughput"
)

// QueryTypes lists the query types in the order the query editor shows them.
var QueryTypes = []string{QueryScorecard, QueryLanePercentiles, QueryETALookup, QueryQuote, QueryOpenAlerts, QueryThroughput}

// Query is the JSON model of a query; which fields apply depends on
// QueryType (the README of this folder lists them).
type Query struct {
	QueryType string `json:"queryType"`

	// Filters: scorecard and lane_percentiles (all four), open_alerts
	// (carrier, lane, merchant), quote (carrier, service).
	Carrier  string `json:"carrier,omitempty"`
	Lane     string `json:"lane,omitempty"`
	Service  string `json:"service,omitempty"`
	Merchant string `json:"merchant,omitempty"`

	GroupBy string `json:"groupBy,omitempty"` // scorecard: "" (carrier and lane), "carrier" or "lane"

	TrackingNumber string `json:"trackingNumber,omitempty"` // eta_lookup: one, or several separated by commas or spaces
	Lang           string `json:"lang,omitempty"`           // eta_lookup: status text language, defaults to en

	ShippedAt string `json:"shippedAt,omitempty"` // quote: RFC 3339 or YYYY-MM-DD; defaults to now
	Deadline  string `json:"deadline,omitempty"`  // quote: RFC 3339 or YYYY-MM-DD (its end); optional

	AlertType     string `json:"alertType,omitempty"`     // open_alerts: only this type
	OpenedInRange bool   `json:"openedInRange,omitempty"` // open_alerts: only those opened in the time range
	Limit         int    `json:"limit,omitempty"`         // open_alerts: at most this many, newest first; defaults to 1000
}

// maxAlertRows is open_alerts' default limit.
const maxAlertRows = 1000

// errQuery marks a query the user must fix; other errors are ClickHouse's.
var errQuery = errors.New("invalid query")

func badQuery(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errQuery, fmt.Sprintf(format, args...))
}

// parseQuery reads a query's JSON; the DataQuery's own QueryType wins over
// the one in the JSON, as Grafana sends both.
func parseQuery(q backend.DataQuery) (Query, error) {
	var m Query
	if len(q.JSON) > 0 {
		if err := json.Unmarshal(q.JSON, &m); err != nil {
			return m, badQuery("cannot read the query JSON: %v", err)
		}
	}
	if q.QueryType != "" {
		m.QueryType = q.QueryType
	}
	for _, s := range []*string{&m.Carrier, &m.Lane, &m.Service, &m.Merchant, &m.TrackingNumber, &m.ShippedAt, &m.Deadline, &m.AlertType, &m.Lang} {
		*s = strings.TrimSpace(*s)
	}
	m.Carrier = strings.ToLower(m.Carrier)
	m.Lane = strings.ToUpper(m.Lane)
	return m, nil
}

// QueryData answers each query with its frames, several at a time.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	var mu sync.Mutex
	p := pool.New().WithMaxGoroutines(4)
	for _, q := range req.Queries {
		p.Go(func() {
			r := d.query(ctx, req.PluginContext, q)
			mu.Lock()
			resp.Responses[q.RefID] = r
			mu.Unlock()
		})
	}
	p.Wait()
	return resp, nil
}

func (d *Datasource) query(ctx context.Context, pc backend.PluginContext, q backend.DataQuery) backend.DataResponse {
	m, err := parseQuery(q)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	}
	run := map[string]func(context.Context, *store.Store, backend.DataQuery, Query) (data.Frames, error){
		QueryScorecard:       d.scorecard,
		QueryLanePercentiles: d.lanePercentiles,
		QueryETALookup:       d.etaLookup,
		QueryQuote:           d.quote,
		QueryOpenAlerts:      d.openAlerts,
		QueryThroughput:      d.throughput,
	}[m.QueryType]
	if run == nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream,
			fmt.Sprintf("unknown queryType %q: want one of %s", m.QueryType, strings.Join(QueryTypes, ", ")))
	}
	st, err := d.store(ctx)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	}
	frames, err := run(ctx, st, q, m)
	switch {
	case errors.Is(err, errQuery):
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	case err != nil:
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	}
	if m.QueryType == QueryThroughput && pc.DataSourceInstanceSettings != nil {
		// Grafana subscribes the panel to the channel and appends what it sends.
		ch := live.Channel{Scope: live.ScopeDatasource, Namespace: pc.DataSourceInstanceSettings.UID, Path: PathThroughput}
		frames[0].Meta.Channel = ch.String()
	}
	return backend.DataResponse{Frames: frames}
}

// utcDay returns the UTC day of t.
func utcDay(t time.Time) time.Time {
	y, mo, dd := t.UTC().Date()
	return time.Date(y, mo, dd, 0, 0, 0, 0, time.UTC)
}

// scorecardQuery returns the store query of m over the days of the time range.
func scorecardQuery(q backend.DataQuery, m Query) store.ScorecardQuery {
	return store.ScorecardQuery{From: utcDay(q.TimeRange.From), To: utcDay(q.TimeRange.To),
		Carrier: m.Carrier, Lane: m.Lane, Service: m.Service, Merchant: m.Merchant}
}

// field returns f with a display name and unit.
func field(f *data.Field, display, unit string) *data.Field {
	return f.SetConfig(&data.FieldConfig{DisplayNameFromDS: display, Unit: unit})
}

// scorecard: one row per carrier and lane (or per carrier, or per lane) of
// the shipments delivered on the days of the time range.
func (d *Datasource) scorecard(ctx context.Context, st *store.Store, q backend.DataQuery, m Query) (data.Frames, error) {
	var key func(analytics.ScoreKey) analytics.ScoreKey
	switch m.GroupBy {
	case "", "carrier_lane":
	case "carrier":
		key = func(k analytics.ScoreKey) analytics.ScoreKey { return analytics.ScoreKey{Carrier: k.Carrier} }
	case "lane":
		key = func(k analytics.ScoreKey) analytics.ScoreKey { return analytics.ScoreKey{Lane: k.Lane} }
	default:
		return nil, badQuery("unknown groupBy %q: want carrier, lane or nothing", m.GroupBy)
	}
	sq := scorecardQuery(q, m)
	if err := sq.Validate(); err != nil {
		return nil, badQuery("%v", err)
	}
	card, err := st.ScorecardOf(ctx, sq)
	if err != nil {
		return nil, err
	}
	if key != nil {
		card = card.RollUp(key)
	}
	rows := card.Rows()
	n := len(rows)
	var (
		carrier, lane                  = make([]string, n), make([]string, n)
		delivered, withPromise, onTime = make([]int64, n), make([]int64, n), make([]int64, n)
		rate, tp50, tp90, cp50, cp90   = make([]*float64, n), make([]*float64, n), make([]*float64, n), make([]*float64, n), make([]*float64, n)
		exceptions                     = make([]int64, n)
	)
	for i, r := range rows {
		carrier[i], lane[i] = r.Carrier, r.Lane
		delivered[i], withPromise[i], onTime[i], exceptions[i] = r.Delivered, r.WithPromise, r.OnTime, r.Exceptions
		rate[i], tp50[i], tp90[i], cp50[i], cp90[i] = r.OnTimeRate, r.TransitHoursP50, r.TransitHoursP90, r.CustomsDwellHoursP50, r.CustomsDwellHoursP90
	}
	f := data.NewFrame("scorecard",
		field(data.NewField("carrier", nil, carrier), "Carrier", ""),
		field(data.NewField("lane", nil, lane), "Lane", ""),
		field(data.NewField("delivered", nil, delivered), "Delivered", "short"),
		field(data.NewField("with_promise", nil, withPromise), "With promise", "short"),
		field(data.NewField("on_time", nil, onTime), "On time", "short"),
		field(data.NewField("on_time_rate", nil, rate), "On-time rate", "percentunit"),
		field(data.NewField("transit_hours_p50", nil, tp50), "Transit p50", "h"),
		field(data.NewField("transit_hours_p90", nil, tp90), "Transit p90", "h"),
		field(data.NewField("customs_dwell_hours_p50", nil, cp50), "Customs dwell p50", "h"),
		field(data.NewField("customs_dwell_hours_p90", nil, cp90), "Customs dwell p90", "h"),
		field(data.NewField("exceptions", nil, exceptions), "Exceptions", "short"),
	)
	f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTable, TypeVersion: data.FrameTypeVersion{0, 1}})
	return data.Frames{f}, nil
}

// filterLabels are the filters of m as field labels, so that series of
// several queries tell themselves apart.
func filterLabels(m Query) data.Labels {
	l := data.Labels{}
	for k, v := range map[string]string{"carrier": m.Carrier, "lane": m.Lane, "service": m.Service, "merchant": m.Merchant} {
		if v != "" {
			l[k] = v
		}
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

// lanePercentiles: per delivery day of the range, the transit-time p50 and
// p90 and the deliveries they are of.
func (d *Datasource) lanePercentiles(ctx context.Context, st *store.Store, q backend.DataQuery, m Query) (data.Frames, error) {
	sq := scorecardQuery(q, m)
	if err := sq.Validate(); err != nil {
		return nil, badQuery("%v", err)
	}
	days, err := st.TransitPerDay(ctx, sq)
	if err != nil {
		return nil, err
	}
	n := len(days)
	ts, p50, p90, count := make([]time.Time, n), make([]float64, n), make([]float64, n), make([]int64, n)
	for i, dq := range days {
		ts[i], p50[i], p90[i], count[i] = dq.Day.UTC(), dq.P50, dq.P90, dq.N
	}
	l := filterLabels(m)
	f := data.NewFrame("transit",
		field(data.NewField("time", nil, ts), "Delivery day", ""),
		field(data.NewField("transit_hours_p50", l, p50), "Transit p50", "h"),
		field(data.NewField("transit_hours_p90", l, p90), "Transit p90", "h"),
		field(data.NewField("delivered", l, count), "Delivered", "short"),
	)
	f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesWide, TypeVersion: data.FrameTypeVersion{0, 1}})
	return data.Frames{f}, nil
}

// etaLookup: the current prediction of each tracking number, answered as
// GET /v1/eta/{tracking_number} answers it (predicted again as of the
// stream's clock with the latest model).
func (d *Datasource) etaLookup(ctx context.Context, st *store.Store, q backend.DataQuery, m Query) (data.Frames, error) {
	tns := strings.FieldsFunc(m.TrackingNumber, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	if len(tns) == 0 {
		return nil, badQuery("eta_lookup needs a trackingNumber")
	}
	if len(tns) > 100 {
		return nil, badQuery("eta_lookup takes at most 100 tracking numbers, not %d", len(tns))
	}
	for _, tn := range tns {
		if len(tn) > 64 {
			return nil, badQuery("tracking number %q is longer than 64 characters", tn)
		}
	}
	lang, err := api.ParseLanguage(m.Lang)
	if err != nil {
		return nil, badQuery("%v", err)
	}
	recs, err := st.ETAs(ctx, tns)
	if err != nil {
		return nil, err
	}
	var answers []eta.Answer
	var missing []string
	answer := func(p *eta.Predictor) {
		var model *eta.Model
		if p != nil {
			model = p.Model()
		}
		for _, tn := range tns {
			rec, ok := recs[tn]
			if !ok {
				missing = append(missing, tn)
				continue
			}
			answers = append(answers, eta.NewAnswer(rec, p, eta.Clock(&rec, model, d.opts.Now()), lang))
		}
	}
	if err := d.models.With(ctx, answer); err != nil {
		answers, missing = nil, nil
		answer(nil) // the stored predictions, as the HTTP API falls back to
	}
	n := len(answers)
	var (
		tn, carrier, service, lane = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		status, text, milestone    = make([]string, n), make([]string, n), make([]string, n)
		p50, p10, p90, asOf, ver   = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		basis                      = make([]string, n)
		promised                   = make([]*time.Time, n)
	)
	for i, a := range answers {
		tn[i], carrier[i], service[i], lane[i] = a.TrackingNumber, a.Carrier, a.Service, a.Lane
		status[i], text[i], milestone[i], basis[i] = a.Status, a.StatusText, a.Milestone, a.Basis
		p50[i], p10[i], p90[i], asOf[i], ver[i] = a.PredictedDelivery, a.P10, a.P90, a.AsOf, a.ModelVersion
		promised[i] = a.PromisedAt
	}
	f := data.NewFrame("eta",
		field(data.NewField("tracking_number", nil, tn), "Tracking number", ""),
		field(data.NewField("carrier", nil, carrier), "Carrier", ""),
		field(data.NewField("service", nil, service), "Service", ""),
		field(data.NewField("lane", nil, lane), "Lane", ""),
		field(data.NewField("status", nil, status), "Status", ""),
		field(data.NewField("status_text", nil, text), "Status text", ""),
		field(data.NewField("milestone", nil, milestone), "Milestone", ""),
		field(data.NewField("predicted_delivery", nil, p50), "Predicted delivery", ""),
		field(data.NewField("p10", nil, p10), "Earliest (p10)", ""),
		field(data.NewField("p90", nil, p90), "Latest (p90)", ""),
		field(data.NewField("as_of", nil, asOf), "As of", ""),
		field(data.NewField("basis", nil, basis), "Basis", ""),
		field(data.NewField("model_version", nil, ver), "Model version", ""),
		field(data.NewField("promised_at", nil, promised), "Promised", ""),
	)
	meta := &data.FrameMeta{Type: data.FrameTypeTable, TypeVersion: data.FrameTypeVersion{0, 1}}
	if len(missing) > 0 {
		meta.Notices = []data.Notice{{Severity: data.NoticeSeverityWarning, Text: "no prediction is known for " + strings.Join(missing, ", ")}}
	}
	f.SetMeta(meta)
	return data.Frames{f}, nil
}

// quote: the what-if answer of GET /v1/eta/quote, one row per carrier and
// service, best first.
func (d *Datasource) quote(ctx context.Context, st *store.Store, q backend.DataQuery, m Query) (data.Frames, error) {
	pq, err := api.ParseQuote(m.Lane, m.Carrier, m.Service, m.ShippedAt, m.Deadline, d.opts.Now())
	if err != nil {
		return nil, badQuery("%v", err)
	}
	var resp eta.QuoteResponse
	found := false
	if err := d.models.With(ctx, func(p *eta.Predictor) {
		if p != nil {
			found = true
			resp = eta.NewQuoteResponse(p, pq.Lane, pq.Carrier, pq.Service, pq.ShippedAt, pq.Deadline)
		}
	}); err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("no ETA model has been learned yet: run the processor on some deliveries first")
	}
	n := len(resp.Options)
	var (
		rank              = make([]int64, n)
		carrier, service  = make([]string, n), make([]string, n)
		p10, p50, p90     = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		hours, deliveries = make([]float64, n), make([]float64, n)
		onTime            = make([]*float64, n)
		basis             = make([]string, n)
	)
	for i, o := range resp.Options {
		rank[i], carrier[i], service[i] = int64(i+1), o.Carrier, o.Service
		p10[i], p50[i], p90[i] = o.P10, o.PredictedDelivery, o.P90
		hours[i] = o.PredictedDelivery.Sub(resp.ShippedAt).Hours()
		onTime[i], basis[i], deliveries[i] = o.OnTime, o.Basis, o.Deliveries
	}
	f := data.NewFrame("quote",
		field(data.NewField("rank", nil, rank), "Rank", ""),
		field(data.NewField("carrier", nil, carrier), "Carrier", ""),
		field(data.NewField("service", nil, service), "Service", ""),
		field(data.NewField("p10", nil, p10), "Earliest (p10)", ""),
		field(data.NewField("p50", nil, p50), "Predicted delivery", ""),
		field(data.NewField("p90", nil, p90), "Latest (p90)", ""),
		field(data.NewField("transit_hours_p50", nil, hours), "Transit p50", "h"),
		field(data.NewField("on_time_probability", nil, onTime), "P(on time)", "percentunit"),
		field(data.NewField("basis", nil, basis), "Basis", ""),
		field(data.NewField("deliveries", nil, deliveries), "Deliveries behind it", "short"),
	)
	custom := map[string]any{"lane": resp.Lane, "shipped_at": resp.ShippedAt, "model_version": resp.ModelVersion}
	if resp.Deadline != nil {
		custom["deadline"] = *resp.Deadline
	}
	f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTable, TypeVersion: data.FrameTypeVersion{0, 1}, Custom: custom})
	return data.Frames{f}, nil
}

// openAlerts: the alerts whose latest state is open, newest opened first.
func (d *Datasource) openAlerts(ctx context.Context, st *store.Store, q backend.DataQuery, m Query) (data.Frames, error) {
	limit := m.Limit
	if limit <= 0 {
		limit = maxAlertRows
	}
	aq := store.AlertQuery{Open: true, Merchant: m.Merchant, Type: alerts.Type(m.AlertType), Carrier: m.Carrier, Lane: m.Lane, Limit: limit + 1}
	if m.OpenedInRange {
		aq.From, aq.To = q.TimeRange.From, q.TimeRange.To
	}
	if err := aq.Validate(); err != nil {
		return nil, badQuery("%v", err)
	}
	as, err := st.ListAlerts(ctx, aq)
	if err != nil {
		return nil, err
	}
	truncated := len(as) > limit
	as = as[:min(len(as), limit)]
	n := len(as)
	var (
		opened, last, at                 = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		escalated, promised, predicted   = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		id, typ, rule, tier, tn          = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		carrier, service, lane, merchant = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		status, milestone, detail        = make([]string, n), make([]string, n), make([]string, n)
		attempts                         = make([]int64, n)
		limitHours                       = make([]float64, n)
	)
	optTime := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	for i, a := range as {
		opened[i], last[i], at[i] = a.OpenedAt.UTC(), a.LastEventAt.UTC(), a.At.UTC()
		escalated[i], promised[i], predicted[i] = optTime(a.EscalatedAt), optTime(a.PromisedAt), optTime(a.PredictedAt)
		id[i], typ[i], rule[i], tier[i], tn[i] = a.ID, string(a.Type), a.Rule, string(a.Tier), a.TrackingNumber
		carrier[i], service[i], lane[i], merchant[i] = a.Carrier, a.Service, a.Lane, a.Merchant
		status[i], milestone[i], detail[i] = a.Status, a.Milestone, a.Detail
		attempts[i], limitHours[i] = int64(a.Attempts), a.LimitHours
	}
	f := data.NewFrame("open_alerts",
		field(data.NewField("opened_at", nil, opened), "Opened", ""),
		field(data.NewField("alert_id", nil, id), "Alert", ""),
		field(data.NewField("type", nil, typ), "Type", ""),
		field(data.NewField("rule", nil, rule), "Rule", ""),
		field(data.NewField("tier", nil, tier), "Tier", ""),
		field(data.NewField("tracking_number", nil, tn), "Tracking number", ""),
		field(data.NewField("carrier", nil, carrier), "Carrier", ""),
		field(data.NewField("service", nil, service), "Service", ""),
		field(data.NewField("lane", nil, lane), "Lane", ""),
		field(data.NewField("merchant", nil, merchant), "Merchant", ""),
		field(data.NewField("status", nil, status), "Status", ""),
		field(data.NewField("milestone", nil, milestone), "Milestone", ""),
		field(data.NewField("attempts", nil, attempts), "Attempts", "short"),
		field(data.NewField("last_event_at", nil, last), "Last scan", ""),
		field(data.NewField("escalated_at", nil, escalated), "Escalated", ""),
		field(data.NewField("at", nil, at), "Updated", ""),
		field(data.NewField("limit_hours", nil, limitHours), "Limit", "h"),
		field(data.NewField("promised_at", nil, promised), "Promised", ""),
		field(data.NewField("predicted_at", nil, predicted), "Predicted", ""),
		field(data.NewField("detail", nil, detail), "Detail", ""),
	)
	meta := &data.FrameMeta{Type: data.FrameTypeTable, TypeVersion: data.FrameTypeVersion{0, 1}}
	if truncated {
		meta.Notices = []data.Notice{{Severity: data.NoticeSeverityWarning, Text: fmt.Sprintf("showing the newest %d open alerts; narrow the filters or raise the limit", limit)}}
	}
	f.SetMeta(meta)
	return data.Frames{f}, nil
}

// maxThroughputPoints bounds the buckets of a throughput query.
const maxThroughputPoints = 5000

// throughput: the processor's events per second and lag over the time
// range, in buckets of the query's interval (at least a second); the frame
// names the channel that continues it live.
func (d *Datasource) throughput(ctx context.Context, st *store.Store, q backend.DataQuery, m Query) (data.Frames, error) {
	from, to := q.TimeRange.From.Unix(), q.TimeRange.To.Unix()
	if settled := d.opts.Now().Add(-d.opts.Settle).Unix(); to > settled {
		to = settled
	}
	if to < from || from < 0 {
		return nil, badQuery("empty time range")
	}
	step := max(int64(q.Interval/time.Second), 1)
	if (to-from)/step > maxThroughputPoints {
		step = (to-from)/maxThroughputPoints + 1
	}
	from, to = from/step*step, to/step*step
	rows, err := stats(ctx, st, uint32(from), uint32(to), uint32(step))
	if err != nil {
		return nil, err
	}
	var c lagCarry
	return data.Frames{c.frame(rows, uint32(from), uint32(to), uint32(step))}, nil
}

// lagCarry keeps each partition's latest lag, so that a bucket in which a
// partition did not flush still counts what it last reported.
type lagCarry map[partitionKey]lagSeen

type partitionKey struct {
	processor string
	partition uint16
}

type lagSeen struct {
	lag int64
	at  uint32
}

// lagStale is how long a partition's last lag counts without a new flush.
const lagStale = 60

// frame returns the throughput frame of the buckets from..to (inclusive,
// step seconds apart) from rows sorted by bucket: events per second, and
// the sum of the latest lag of every partition that flushed within
// max(lagStale, 2 steps), null when none did.
func (c *lagCarry) frame(rows []statRow, from, to, step uint32) *data.Frame {
	if *c == nil {
		*c = lagCarry{}
	}
	stale := max(uint32(lagStale), 2*step)
	var (
		ts  []time.Time
		eps []float64
		lag []*int64
	)
	i := 0
	for t := from; t <= to; t += step {
		var events uint64
		for ; i < len(rows) && rows[i].T < t+step; i++ {
			r := rows[i]
			if r.T < t {
				continue
			}
			events += r.Events
			(*c)[partitionKey{r.Processor, r.Partition}] = lagSeen{r.Lag, r.T}
		}
		var sum int64
		known := false
		for k, s := range *c {
			if s.at+stale <= t {
				delete(*c, k)
				continue
			}
			sum += s.lag
			known = true
		}
		ts = append(ts, time.Unix(int64(t), 0).UTC())
		eps = append(eps, float64(events)/float64(step))
		if known {
			lag = append(lag, &sum)
		} else {
			lag = append(lag, nil)
		}
	}
	f := data.NewFrame("throughput",
		field(data.NewField("time", nil, ts), "Time", ""),
		field(data.NewField("events_per_second", nil, eps), "Events/s", "eps"),
		field(data.NewField("lag", nil, lag), "Lag (messages)", "short"),
	)
	f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesWide, TypeVersion: data.FrameTypeVersion{0, 1}})
	return f
}
