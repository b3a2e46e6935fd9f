// Package reference computes the carrier scorecard the slow, obvious way,
// straight from raw events, for tests to hold the real pipeline against.
//
// It reads only the input contract (schemas.Event and the status taxonomy)
// and checks only the output contract (the JSON rows of `shiplens report
// carriers`, DESIGN section 7). It must import nothing from analytics, the
// store or the processor, and share no code with them: a figure both sides
// get wrong in the same way would go unnoticed. Only tests import it.
//
// The definitions are those of DESIGN section 3 and the README's scorecard
// section, applied literally to each shipment's events:
//
//   - An event_id counts once: the first copy in input order is the event.
//   - A shipment's events are ordered by occurred_at; ties go by the status
//     taxonomy (customs_clearance before customs_released), then by event id,
//     compared through its 64-bit FNV-1a hash (the order shiplens defines,
//     since it keeps a hash, not the id), then as text.
//   - carrier: that of the first event. lane: origin_country + "-" +
//     destination_country of the first event that carries both; "" when none
//     does. DESIGN makes both countries required for lane metrics, so such a
//     shipment is in no lane's figures: it counts for its carrier in the row
//     with the empty lane, never under a made-up lane such as "-".
//   - start: the first picked_up, else the first event that is not
//     info_received. transit_hours: first delivered − start, 0 when negative.
//   - promise: promised_at of the last event that carries one; on time when
//     the first delivered is at or before it.
//   - customs_dwell_hours: from the first customs_clearance or customs_held
//     to the first later event that is customs_released, out_for_delivery,
//     available_for_pickup or delivered; no value when there is none.
//   - delivered, with_promise, on_time and the quantiles count the shipments
//     whose first delivered falls on a UTC day in [from, to]; exceptions
//     counts those whose first customs_held, delivery_failed, returned or
//     exception does.
//   - Quantiles are exact nearest-rank: the value of rank ceil(q*n).
//
// Times are compared at the precision the events carry, as DESIGN states
// the definitions. analytics keeps whole seconds (DateTime in ClickHouse
// 18.16), so events less than a second apart can differ there; workloads
// that compare the two use whole seconds, as carriers report them.
package reference

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Row is one carrier and lane of a scorecard, in the JSON shape of DESIGN
// section 7. Figures without data (no promise, no customs, no delivery) are
// nil, encoded null. Scorecard fills the quantiles with exact values.
type Row struct {
	Carrier              string   `json:"carrier"`
	Lane                 string   `json:"lane"`
	Delivered            int64    `json:"delivered"`
	WithPromise          int64    `json:"with_promise"`
	OnTime               int64    `json:"on_time"`
	OnTimeRate           *float64 `json:"on_time_rate"`
	TransitHoursP50      *float64 `json:"transit_hours_p50"`
	TransitHoursP90      *float64 `json:"transit_hours_p90"`
	CustomsDwellHoursP50 *float64 `json:"customs_dwell_hours_p50"`
	CustomsDwellHoursP90 *float64 `json:"customs_dwell_hours_p90"`
	Exceptions           int64    `json:"exceptions"`
}

// key names a scorecard row.
type key struct{ carrier, lane string }

func (r *Row) key() key { return key{r.Carrier, r.Lane} }

// String returns "carrier lane", or "carrier (no lane)".
func (k key) String() string {
	if k.lane == "" {
		return k.carrier + " (no lane)"
	}
	return k.carrier + " " + k.lane
}

// keys are the JSON keys of a row, each required.
var keys = []string{"carrier", "lane", "delivered", "with_promise", "on_time", "on_time_rate",
	"transit_hours_p50", "transit_hours_p90", "customs_dwell_hours_p50", "customs_dwell_hours_p90", "exceptions"}

// shipment holds the figures of one shipment.
type shipment struct {
	carrier, lane string
	delivered     bool
	deliveredAt   time.Time
	transit       float64 // hours; set when delivered
	hasPromise    bool
	onTime        bool // when delivered and hasPromise
	customsDone   bool
	customs       float64 // hours; set when customsDone
	exception     bool
	exceptionAt   time.Time
}

// idOrder is the tie-break after the status: the event id's FNV-1a hash.
func idOrder(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// sortEvents orders one shipment's events as the definitions read them.
func sortEvents(evs []schemas.Event) {
	type keyed struct {
		e schemas.Event
		h uint64
	}
	ks := make([]keyed, len(evs))
	for i := range evs {
		ks[i] = keyed{evs[i], idOrder(evs[i].EventID)}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		return cmp.Or(a.e.OccurredAt.Compare(b.e.OccurredAt), cmp.Compare(a.e.Status, b.e.Status),
			cmp.Compare(a.h, b.h), cmp.Compare(a.e.EventID, b.e.EventID))
	})
	for i := range ks {
		evs[i] = ks[i].e
	}
}

func isException(s schemas.Status) bool {
	switch s {
	case schemas.CustomsHeld, schemas.DeliveryFailed, schemas.Returned, schemas.Exception:
		return true
	}
	return false
}

func endsCustoms(s schemas.Status) bool {
	switch s {
	case schemas.CustomsReleased, schemas.OutForDelivery, schemas.AvailableForPickup, schemas.Delivered:
		return true
	}
	return false
}

// index returns the position of the first event in evs from on that
// satisfies ok, or -1.
func index(evs []schemas.Event, from int, ok func(*schemas.Event) bool) int {
	for i := from; i < len(evs); i++ {
		if ok(&evs[i]) {
			return i
		}
	}
	return -1
}

func hasStatus(s ...schemas.Status) func(*schemas.Event) bool {
	return func(e *schemas.Event) bool { return slices.Contains(s, e.Status) }
}

// figures computes the figures of one shipment from its distinct events,
// which it sorts.
func figures(evs []schemas.Event) shipment {
	sortEvents(evs)
	var s shipment
	s.carrier = evs[0].Carrier
	if i := index(evs, 0, func(e *schemas.Event) bool { return e.OriginCountry != "" && e.DestinationCountry != "" }); i >= 0 {
		s.lane = evs[i].OriginCountry + "-" + evs[i].DestinationCountry
	}
	start := index(evs, 0, hasStatus(schemas.PickedUp))
	if start < 0 {
		start = index(evs, 0, func(e *schemas.Event) bool { return e.Status != schemas.InfoReceived })
	}
	if d := index(evs, 0, hasStatus(schemas.Delivered)); d >= 0 {
		s.delivered, s.deliveredAt = true, evs[d].OccurredAt
		// A delivered event is not info_received, so start exists.
		s.transit = max(0, s.deliveredAt.Sub(evs[start].OccurredAt).Hours())
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if !evs[i].PromisedAt.IsZero() {
			s.hasPromise = true
			s.onTime = s.delivered && !s.deliveredAt.After(evs[i].PromisedAt)
			break
		}
	}
	if in := index(evs, 0, hasStatus(schemas.CustomsClearance, schemas.CustomsHeld)); in >= 0 {
		if out := index(evs, in+1, func(e *schemas.Event) bool { return endsCustoms(e.Status) }); out >= 0 {
			s.customsDone = true
			s.customs = evs[out].OccurredAt.Sub(evs[in].OccurredAt).Hours()
		}
	}
	if x := index(evs, 0, func(e *schemas.Event) bool { return isException(e.Status) }); x >= 0 {
		s.exception, s.exceptionAt = true, evs[x].OccurredAt
	}
	return s
}

// day returns the UTC day that contains t.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// quantile returns the nearest-rank q-quantile of v, the value of rank
// ceil(q*n) counting from 1, or nil when v is empty.
func quantile(v []float64, q float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	r := int(math.Ceil(q * float64(len(s))))
	r = min(max(r, 1), len(s))
	return &s[r-1]
}

// Scorecard computes the reference scorecard of events for deliveries (and
// first exceptions) on the UTC days from from to to, inclusive: one Row per
// carrier and lane that has either, sorted by carrier, then lane.
func Scorecard(events []schemas.Event, from, to time.Time) []Row {
	from, to = day(from), day(to)
	byShipment := map[string][]schemas.Event{}
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.EventID] {
			continue
		}
		seen[e.EventID] = true
		byShipment[e.TrackingNumber] = append(byShipment[e.TrackingNumber], e)
	}
	inRange := func(t time.Time) bool {
		d := day(t)
		return !d.Before(from) && !d.After(to)
	}
	type acc struct {
		row              Row
		transit, customs []float64
	}
	accs := map[key]*acc{}
	get := func(s *shipment) *acc {
		k := key{s.carrier, s.lane}
		if accs[k] == nil {
			accs[k] = &acc{row: Row{Carrier: k.carrier, Lane: k.lane}}
		}
		return accs[k]
	}
	for _, evs := range byShipment {
		s := figures(evs)
		if s.exception && inRange(s.exceptionAt) {
			get(&s).row.Exceptions++
		}
		if !s.delivered || !inRange(s.deliveredAt) {
			continue
		}
		a := get(&s)
		a.row.Delivered++
		a.transit = append(a.transit, s.transit)
		if s.hasPromise {
			a.row.WithPromise++
			if s.onTime {
				a.row.OnTime++
			}
		}
		if s.customsDone {
			a.customs = append(a.customs, s.customs)
		}
	}
	out := make([]Row, 0, len(accs))
	for _, a := range accs {
		r := a.row
		if r.WithPromise > 0 {
			rate := float64(r.OnTime) / float64(r.WithPromise)
			r.OnTimeRate = &rate
		}
		r.TransitHoursP50, r.TransitHoursP90 = quantile(a.transit, 0.5), quantile(a.transit, 0.9)
		r.CustomsDwellHoursP50, r.CustomsDwellHoursP90 = quantile(a.customs, 0.5), quantile(a.customs, 0.9)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Carrier, b.Carrier), cmp.Compare(a.Lane, b.Lane))
	})
	return out
}

// Decode reads report rows through the JSON contract of DESIGN section 7.
// got is the JSON itself ([]byte, json.RawMessage or string) or any value
// that marshals to it, such as the production row type. Every row must be
// an object with exactly the contract's keys; a missing key is an error,
// not a zero.
func Decode(got any) ([]Row, error) {
	var b []byte
	switch v := got.(type) {
	case []byte:
		b = v
	case json.RawMessage:
		b = v
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(got); err != nil {
			return nil, fmt.Errorf("cannot marshal the report: %w", err)
		}
	}
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(b, &objs); err != nil {
		return nil, fmt.Errorf("the report is not an array of objects: %w", err)
	}
	rows := make([]Row, len(objs))
	for i, o := range objs {
		var missing, extra []string
		for _, k := range keys {
			if _, ok := o[k]; !ok {
				missing = append(missing, k)
			}
		}
		for k := range o {
			if !slices.Contains(keys, k) {
				extra = append(extra, k)
			}
		}
		if len(missing)+len(extra) > 0 {
			slices.Sort(extra)
			return nil, fmt.Errorf("report row %d: missing keys %v, unknown keys %v", i, missing, extra)
		}
		raw, _ := json.Marshal(o)
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&rows[i]); err != nil {
			return nil, fmt.Errorf("report row %d: %w", i, err)
		}
		for _, k := range []string{"carrier", "lane", "delivered", "with_promise", "on_time", "exceptions"} {
			if string(o[k]) == "null" {
				return nil, fmt.Errorf("report row %d: %s is null", i, k)
			}
		}
	}
	return rows, nil
}

// RateTolerance is the absolute error Compare allows on on_time_rate.
const RateTolerance = 1e-9

// QuantileTolerance is the relative error Compare allows on quantiles: the
// sketch bound of DESIGN section 3.
const QuantileTolerance = 0.01

// Compare fails t unless the report got, read through the JSON contract
// (see Decode), has exactly the rows of want, the reference: no row missing,
// extra or repeated; every count equal; on_time_rate within RateTolerance;
// every quantile within QuantileTolerance of the exact one; null exactly
// where the reference has no data. A reference with no delivered shipment
// fails too, since then the comparison proves little.
func Compare(t testing.TB, got any, want []Row) {
	t.Helper()
	rows, err := Decode(got)
	if err != nil {
		t.Errorf("cannot read the report: %v", err)
		return
	}
	wantBy := map[key]*Row{}
	var delivered int64
	for i := range want {
		wantBy[want[i].key()] = &want[i]
		delivered += want[i].Delivered
	}
	if delivered == 0 {
		t.Errorf("the reference has no delivered shipment: the comparison proves little")
	}
	seen := map[key]bool{}
	for i := range rows {
		g := &rows[i]
		k := g.key()
		if seen[k] {
			t.Errorf("report row %s appears more than once", k)
			continue
		}
		seen[k] = true
		w := wantBy[k]
		if w == nil {
			t.Errorf("report row %s is not in the reference: %s", k, format(g))
			continue
		}
		if diffs := diff(g, w); len(diffs) > 0 {
			t.Errorf("%s: %s", k, strings.Join(diffs, "; "))
		}
	}
	for i := range want {
		if k := want[i].key(); !seen[k] {
			t.Errorf("reference row %s is missing from the report: %s", k, format(&want[i]))
		}
	}
}

// diff lists how report row g differs from reference row w.
func diff(g, w *Row) []string {
	var out []string
	count := func(name string, got, want int64) {
		if got != want {
			out = append(out, fmt.Sprintf("%s = %d, reference %d", name, got, want))
		}
	}
	count("delivered", g.Delivered, w.Delivered)
	count("with_promise", g.WithPromise, w.WithPromise)
	count("on_time", g.OnTime, w.OnTime)
	count("exceptions", g.Exceptions, w.Exceptions)
	near := func(name string, got, want *float64, ok func(got, want float64) bool) {
		switch {
		case got == nil && want == nil:
		case want == nil:
			out = append(out, fmt.Sprintf("%s = %v, reference null (no data)", name, *got))
		case got == nil:
			out = append(out, fmt.Sprintf("%s = null, reference %v", name, *want))
		case !ok(*got, *want):
			out = append(out, fmt.Sprintf("%s = %v, reference %v", name, *got, *want))
		}
	}
	rate := func(got, want float64) bool { return math.Abs(got-want) <= RateTolerance }
	relative := func(got, want float64) bool {
		if want == 0 {
			return got == 0
		}
		return math.Abs(got-want) <= QuantileTolerance*math.Abs(want)
	}
	near("on_time_rate", g.OnTimeRate, w.OnTimeRate, rate)
	near("transit_hours_p50", g.TransitHoursP50, w.TransitHoursP50, relative)
	near("transit_hours_p90", g.TransitHoursP90, w.TransitHoursP90, relative)
	near("customs_dwell_hours_p50", g.CustomsDwellHoursP50, w.CustomsDwellHoursP50, relative)
	near("customs_dwell_hours_p90", g.CustomsDwellHoursP90, w.CustomsDwellHoursP90, relative)
	return out
}

// format renders a row for messages, nulls as null.
func format(r *Row) string {
	f := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("delivered %d with_promise %d on_time %d on_time_rate %s transit p50/p90 %s/%s customs p50/p90 %s/%s exceptions %d",
		r.Delivered, r.WithPromise, r.OnTime, f(r.OnTimeRate), f(r.TransitHoursP50), f(r.TransitHoursP90),
		f(r.CustomsDwellHoursP50), f(r.CustomsDwellHoursP90), r.Exceptions)
}
