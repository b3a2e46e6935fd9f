package store

import (
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// column is one column of the shipment facts table: how a batch of facts fills it
// and, unless it is derived, how Restore puts its value back into a shipment.
// The INSERT column list, the columnar batch, the restore SELECT and the
// restore scan are all read off factColumns, so they cannot drift apart.
type column struct {
	name string // as in schemas/clickhouse
	typ  string // the ClickHouse type, as system.columns spells it

	// values returns the column of a batch of facts, a []T: clickhouse-go
	// appends whole typed columns far faster than rows of any.
	values func(facts []Fact, now time.Time) any
	// scan returns a destination for rows.Scan and the function that moves
	// the scanned value into a restoring shipment. It is nil for a derived
	// column, which is written for readers and never read back.
	scan func() (dest any, store func(*restoring))
}

// col builds a column whose values are of Go type T. get computes the value
// of a fact (now is the batch's updated_at); set, nil for a derived column,
// restores it.
func col[T any](name, typ string, get func(f *Fact, now time.Time) T, set func(r *restoring, v T)) column {
	c := column{name: name, typ: typ, values: func(facts []Fact, now time.Time) any {
		v := make([]T, len(facts))
		for i := range facts {
			v[i] = get(&facts[i], now)
		}
		return v
	}}
	if set != nil {
		c.scan = func() (any, func(*restoring)) {
			v := new(T)
			return v, func(r *restoring) { set(r, *v) }
		}
	}
	return c
}

// derived builds a column computed from the state alone and not restored.
func derived[T any](name, typ string, get func(s *analytics.Shipment) T) column {
	return col(name, typ, func(f *Fact, _ time.Time) T { return get(&f.State) }, nil)
}

// stamp builds a restored DateTime column over a state time (Unix seconds).
func stamp(name string, field func(s *analytics.Shipment) *uint32) column {
	return col(name, "DateTime",
		func(f *Fact, _ time.Time) time.Time { return ts(*field(&f.State)) },
		func(r *restoring, v time.Time) { *field(&r.state) = u32(v) })
}

// key builds a restored Int64 column over a uint32 (occurred_at or tie key)
// of the state.
func key(name string, field func(s *analytics.Shipment) *uint32) column {
	return col(name, "Int64",
		func(f *Fact, _ time.Time) int64 { return int64(*field(&f.State)) },
		func(r *restoring, v int64) { *field(&r.state) = uint32(v) })
}

// restoring is a shipment being read back. Its labels are collected here
// because analytics.Shipment takes all four in one SetLabels call.
type restoring struct {
	trackingNumber                   string
	carrier, service, merchant, lane string
	locale                           string
	state                            analytics.Shipment
	err                              error // from the one setter that can fail: status
}

// shipment returns the restored state.
func (r *restoring) shipment() (analytics.Shipment, error) {
	r.state.SetLabels(r.carrier, r.service, r.merchant, r.lane)
	r.state.SetLocale(r.locale)
	return r.state, r.err
}

// factsTable holds the shipment facts (schemas/clickhouse/002_daily_aggregates.sql).
const factsTable = "shipment_facts"

// factColumns are the columns of the shipment_facts table, in the order of
// its migration; TestColumnsMatchMigration checks it.
var factColumns = []column{
	col("tracking_number", "String",
		func(f *Fact, _ time.Time) string { return f.TrackingNumber },
		func(r *restoring, v string) { r.trackingNumber = v }),
	col("partition", "UInt16", func(f *Fact, _ time.Time) uint16 { return uint16(f.Partition) }, nil),
	col("carrier", "String",
		func(f *Fact, _ time.Time) string { return f.State.Carrier() },
		func(r *restoring, v string) { r.carrier = v }),
	col("service", "String",
		func(f *Fact, _ time.Time) string { return f.State.Service() },
		func(r *restoring, v string) { r.service = v }),
	col("merchant", "String",
		func(f *Fact, _ time.Time) string { return f.State.Merchant() },
		func(r *restoring, v string) { r.merchant = v }),
	col("lane", "String",
		func(f *Fact, _ time.Time) string { return f.State.Lane() },
		func(r *restoring, v string) { r.lane = v }),
	derived("origin_country", "String", func(s *analytics.Shipment) string {
		origin, _, _ := strings.Cut(s.Lane(), "-")
		return origin
	}),
	derived("destination_country", "String", func(s *analytics.Shipment) string {
		_, dest, _ := strings.Cut(s.Lane(), "-")
		return dest
	}),
	col("status", "String",
		func(f *Fact, _ time.Time) string { return f.State.LastStatus.String() },
		func(r *restoring, v string) { r.state.LastStatus, r.err = schemas.ParseStatus(v) }),
	derived("category", "String", func(s *analytics.Shipment) string { return s.LastStatus.Category().String() }),
	stamp("first_at", func(s *analytics.Shipment) *uint32 { return &s.FirstAt }),
	derived("start_at", "DateTime", func(s *analytics.Shipment) time.Time { return ts(s.Start()) }),
	stamp("picked_up_at", func(s *analytics.Shipment) *uint32 { return &s.PickedUpAt }),
	stamp("active_at", func(s *analytics.Shipment) *uint32 { return &s.ActiveAt }),
	stamp("delivered_at", func(s *analytics.Shipment) *uint32 { return &s.DeliveredAt }),
	stamp("exception_at", func(s *analytics.Shipment) *uint32 { return &s.ExceptionAt }),
	stamp("customs_in_at", func(s *analytics.Shipment) *uint32 { return &s.CustomsInAt }),
	stamp("customs_out_at", func(s *analytics.Shipment) *uint32 { return &s.CustomsOutAt }),
	stamp("promised_at", func(s *analytics.Shipment) *uint32 { return &s.PromisedAt }),
	stamp("last_at", func(s *analytics.Shipment) *uint32 { return &s.LastAt }),
	derived("delivered", "UInt8", func(s *analytics.Shipment) uint8 { return b2u(s.Delivered()) }),
	derived("delivered_day", "Date", func(s *analytics.Shipment) time.Time { return analytics.Day(s.DeliveredAt) }),
	derived("transit_hours", "Float64", func(s *analytics.Shipment) float64 { h, _ := s.TransitHours(); return h }),
	derived("transit_bucket", "Int16", func(s *analytics.Shipment) int16 { h, _ := s.TransitHours(); return analytics.Bucket(h) }),
	derived("has_promise", "UInt8", func(s *analytics.Shipment) uint8 { return b2u(s.HasPromise()) }),
	derived("on_time", "UInt8", func(s *analytics.Shipment) uint8 { onTime, _ := s.OnTime(); return b2u(onTime) }),
	derived("entered_customs", "UInt8", func(s *analytics.Shipment) uint8 { return b2u(s.EnteredCustoms()) }),
	derived("customs_done", "UInt8", func(s *analytics.Shipment) uint8 { _, done := s.CustomsDwellHours(); return b2u(done) }),
	derived("customs_dwell_hours", "Float64", func(s *analytics.Shipment) float64 { h, _ := s.CustomsDwellHours(); return h }),
	derived("customs_bucket", "Int16", func(s *analytics.Shipment) int16 { h, _ := s.CustomsDwellHours(); return analytics.Bucket(h) }),
	derived("has_exception", "UInt8", func(s *analytics.Shipment) uint8 { return b2u(s.HasException()) }),
	derived("exception_day", "Date", func(s *analytics.Shipment) time.Time { return analytics.Day(s.ExceptionAt) }),
	stamp("customs_held_at", func(s *analytics.Shipment) *uint32 { return &s.TypeAt[0] }),
	stamp("delivery_failed_at", func(s *analytics.Shipment) *uint32 { return &s.TypeAt[1] }),
	stamp("returned_at", func(s *analytics.Shipment) *uint32 { return &s.TypeAt[2] }),
	stamp("other_exception_at", func(s *analytics.Shipment) *uint32 { return &s.TypeAt[3] }),
	derived("closed", "UInt8", func(s *analytics.Shipment) uint8 { return b2u(s.Closed()) }),
	key("id_at", func(s *analytics.Shipment) *uint32 { return &s.IDAt }),
	key("id_key", func(s *analytics.Shipment) *uint32 { return &s.IDKey }),
	key("lane_at", func(s *analytics.Shipment) *uint32 { return &s.LaneAt }),
	key("lane_key", func(s *analytics.Shipment) *uint32 { return &s.LaneKey }),
	key("promise_at", func(s *analytics.Shipment) *uint32 { return &s.PromiseAt }),
	key("promise_key", func(s *analytics.Shipment) *uint32 { return &s.PromiseKey }),
	key("last_key", func(s *analytics.Shipment) *uint32 { return &s.LastKey }),
	col("early_out", "Array(Int64)",
		func(f *Fact, _ time.Time) []int64 {
			eo := make([]int64, len(f.State.EarlyOut))
			for i, t := range f.State.EarlyOut {
				eo[i] = int64(t)
			}
			return eo
		},
		func(r *restoring, v []int64) {
			r.state.EarlyOut = nil // an empty array restores as nil, as Apply leaves it
			for _, t := range v {
				r.state.EarlyOut = append(r.state.EarlyOut, uint32(t))
			}
		}),
	col("version", "UInt32",
		func(f *Fact, _ time.Time) uint32 { return f.State.Version },
		func(r *restoring, v uint32) { r.state.Version = v }),
	col("updated_at", "DateTime", func(_ *Fact, now time.Time) time.Time { return now }, nil),
	// 006_locale.sql
	col("locale", "String",
		func(f *Fact, _ time.Time) string { return f.State.Locale() },
		func(r *restoring, v string) { r.locale = v }),
	key("locale_at", func(s *analytics.Shipment) *uint32 { return &s.LocaleAt }),
	key("locale_key", func(s *analytics.Shipment) *uint32 { return &s.LocaleKey }),
}

// restoredColumns are the factColumns Restore reads back, in factColumns order.
var restoredColumns = func() []column {
	var out []column
	for _, c := range factColumns {
		if c.scan != nil {
			out = append(out, c)
		}
	}
	return out
}()

// insertFacts is the INSERT that WriteFacts prepares; 18.16 needs the column
// list.
var insertFacts = func() string {
	names := make([]string, len(factColumns))
	for i, c := range factColumns {
		names[i] = c.name
	}
	return "INSERT INTO " + factsTable + " (" + strings.Join(names, ", ") + ")"
}()

// ts returns a state time as a DateTime value.
func ts(t uint32) time.Time { return time.Unix(int64(t), 0).UTC() }

// u32 returns a DateTime value as a state time: both are Unix seconds in a
// uint32, so nothing is lost either way.
func u32(t time.Time) uint32 { return uint32(t.Unix()) }

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
