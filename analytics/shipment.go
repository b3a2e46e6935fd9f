// Package analytics holds the metric maths of shiplens: the per-shipment state
// that turns a stream of canonical events into the figures of DESIGN section 3,
// the mergeable quantile sketch and the carrier scorecard. It is pure
// computation: no I/O, no clocks, no goroutines; callers own concurrency.
//
// A Shipment is a join-semilattice over its events: applying an event twice,
// or applying events in any order, yields the same state. That is what makes
// duplicates and late events harmless without storing every event: each
// figure is a minimum or maximum over the events, kept with the key that
// breaks ties, so after all events are in, every figure equals what the
// definitions give on the events sorted by occurred_at.
package analytics

import (
	"math"
	"slices"
	"time"
	"unique"

	"github.com/shiplens/shiplens/schemas"
)

// never is the zero value of every time field: "no such event yet".
const never uint32 = 0

// Shipment is the compact state of one shipment, built from its events.
// Times are Unix seconds as uint32 (good until 2106; later promises are
// clamped), 0 meaning "not seen": 4 bytes each keep a shipment's state small.
type Shipment struct {
	figures
	// EarlyOut holds customs-ending times seen before CustomsInAt; they matter
	// again if an even earlier customs event turns up. Almost always empty.
	EarlyOut []uint32
}

// figures is the comparable part of a Shipment.
type figures struct {
	carrier  unique.Handle[string]
	service  unique.Handle[string]
	merchant unique.Handle[string]
	lane     unique.Handle[string]
	locale   unique.Handle[string]

	// Each *At, *Key pair is the (occurred_at, tie key) of the event that
	// set a label; see tieKey.
	IDAt, IDKey     uint32 // the earliest event: carrier, service and merchant
	LaneAt, LaneKey uint32 // the earliest event that carried both countries
	// LocaleAt, LocaleKey: the earliest event that carried a locale.
	LocaleAt, LocaleKey uint32

	FirstAt     uint32 // earliest event of any status
	PickedUpAt  uint32 // first picked_up
	ActiveAt    uint32 // first event whose status is not info_received
	DeliveredAt uint32 // first delivered
	ExceptionAt uint32 // first customs_held, delivery_failed, returned or exception
	// TypeAt holds the first event of each exception status, in the order
	// of ExceptionTypes; ExceptionAt is the least of them.
	TypeAt      [NumExceptionTypes]uint32
	CustomsInAt uint32 // first customs_clearance or customs_held
	// CustomsOutAt is the first customs-ending event at or after CustomsInAt.
	CustomsOutAt          uint32
	PromisedAt            uint32 // promise of the latest event that carried one
	PromiseAt, PromiseKey uint32

	LastAt     uint32 // latest event
	LastKey    uint32
	LastStatus schemas.Status

	// Version counts the changes of this state; writes are keyed by it.
	Version uint32
}

// idHash orders events with equal occurred_at and status deterministically:
// FNV-1a, so that keys stored by one process compare correctly in the next.
func idHash(id string) uint32 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return uint32(h >> 32)
}

// tieKey orders the events of one shipment that share an occurred_at second
// as the README defines: by the status taxonomy (customs_clearance before
// customs_released), then by event id, through the top 24 bits of its hash.
// Every label, the promise and the latest status use it, so that they all
// read the same order of events.
func tieKey(st schemas.Status, id string) uint32 {
	return uint32(st)<<24 | idHash(id)>>8
}

// unix returns t as a state time: Unix seconds clamped to [1, MaxUint32].
func unix(t time.Time) uint32 {
	u := t.Unix()
	switch {
	case u < 1:
		return 1
	case u > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(u)
}

// before reports whether (at, key) sorts before (bt, bkey); an unset (0) b
// sorts last, an unset a first.
func before(at, key, bt, bkey uint32) bool {
	if bt == never {
		return true
	}
	return at < bt || (at == bt && key < bkey)
}

func minTime(cur, t uint32) uint32 {
	if cur == never || t < cur {
		return t
	}
	return cur
}

// Apply folds event e into s and reports whether any figure changed. It is
// idempotent and commutative: duplicates and arrival order do not matter.
func (s *Shipment) Apply(e *schemas.Event) bool {
	prev, prevOut := s.figures, len(s.EarlyOut)
	t := unix(e.OccurredAt)
	st := e.Status
	key := tieKey(st, e.EventID)

	if s.IDAt == never || t < s.IDAt || (t == s.IDAt && key < s.IDKey) {
		s.IDAt, s.IDKey = t, key
		s.carrier = unique.Make(e.Carrier)
		s.service = unique.Make(e.Service)
		s.merchant = unique.Make(e.Merchant)
	}
	if lane := e.Lane(); lane != "" && (s.LaneAt == never || t < s.LaneAt || (t == s.LaneAt && key < s.LaneKey)) {
		s.LaneAt, s.LaneKey = t, key
		s.lane = unique.Make(lane)
	}
	if e.Locale != "" && (s.LocaleAt == never || t < s.LocaleAt || (t == s.LocaleAt && key < s.LocaleKey)) {
		s.LocaleAt, s.LocaleKey = t, key
		s.locale = unique.Make(e.Locale)
	}
	s.FirstAt = minTime(s.FirstAt, t)
	if st == schemas.PickedUp {
		s.PickedUpAt = minTime(s.PickedUpAt, t)
	}
	if st != schemas.InfoReceived {
		s.ActiveAt = minTime(s.ActiveAt, t)
	}
	if st == schemas.Delivered {
		s.DeliveredAt = minTime(s.DeliveredAt, t)
	}
	if st.IsException() {
		s.ExceptionAt = minTime(s.ExceptionAt, t)
		if i := ExceptionType(st); i >= 0 {
			s.TypeAt[i] = minTime(s.TypeAt[i], t)
		}
	}
	if st.StartsCustoms() && (s.CustomsInAt == never || t < s.CustomsInAt) {
		s.openCustoms(t)
	}
	if st.EndsCustoms() {
		s.closeCustoms(t)
	}
	if !e.PromisedAt.IsZero() && before(s.PromiseAt, s.PromiseKey, t, key) {
		// later (occurred_at, key) wins
		s.PromiseAt, s.PromiseKey = t, key
		s.PromisedAt = unix(e.PromisedAt)
	}
	// The latest status: ties on occurred_at go to the status later in the
	// taxonomy, then to the larger event id hash.
	if s.LastAt == never || t > s.LastAt || (t == s.LastAt && key > s.LastKey) {
		s.LastAt, s.LastKey, s.LastStatus = t, key, st
	}
	if s.figures == prev && len(s.EarlyOut) == prevOut {
		return false
	}
	s.Version++
	return true
}

// openCustoms moves the start of customs earlier to t, and finds the first
// customs-ending event at or after it among those already seen.
func (s *Shipment) openCustoms(t uint32) {
	s.CustomsInAt = t
	out := s.CustomsOutAt
	keep := s.EarlyOut[:0]
	for _, r := range s.EarlyOut {
		if r >= t {
			if out == never || r < out {
				out = r
			}
		} else {
			keep = append(keep, r)
		}
	}
	s.CustomsOutAt = out
	if len(keep) == 0 {
		keep = nil
	}
	s.EarlyOut = keep
}

func (s *Shipment) closeCustoms(t uint32) {
	if s.CustomsInAt != never && t >= s.CustomsInAt {
		s.CustomsOutAt = minTime(s.CustomsOutAt, t)
		return
	}
	for _, r := range s.EarlyOut {
		if r == t {
			return
		}
	}
	s.EarlyOut = append(s.EarlyOut, t)
}

// ExceptionTypes are the statuses that make a shipment an exception, in
// the order of Shipment.TypeAt and of the aggregates' columns.
var ExceptionTypes = [NumExceptionTypes]schemas.Status{schemas.CustomsHeld, schemas.DeliveryFailed, schemas.Returned, schemas.Exception}

// NumExceptionTypes is the number of exception statuses.
const NumExceptionTypes = 4

// ExceptionType returns the index of st in ExceptionTypes, or -1.
func ExceptionType(st schemas.Status) int {
	for i, x := range ExceptionTypes {
		if x == st {
			return i
		}
	}
	return -1
}

// Closed reports whether the shipment has reached the end of its journey:
// delivered, or last seen returned. A closed shipment leaves the
// processor's memory once its retention has passed (see Partition.Evict).
func (s *Shipment) Closed() bool {
	return s.DeliveredAt != never || s.LastStatus == schemas.Returned
}

// Merge joins o into s, as if every event applied to o had been applied to
// s, and reports whether s changed. It is how a shipment read back from
// storage meets the events that arrived for it while it was not in memory.
// Version becomes greater than both versions when s changes.
func (s *Shipment) Merge(o *Shipment) bool {
	prev, prevOut := s.figures, slices.Sorted(slices.Values(s.EarlyOut))
	if o.IDAt != never && before(o.IDAt, o.IDKey, s.IDAt, s.IDKey) {
		s.IDAt, s.IDKey = o.IDAt, o.IDKey
		s.carrier, s.service, s.merchant = o.carrier, o.service, o.merchant
	}
	if o.LaneAt != never && before(o.LaneAt, o.LaneKey, s.LaneAt, s.LaneKey) {
		s.LaneAt, s.LaneKey, s.lane = o.LaneAt, o.LaneKey, o.lane
	}
	if o.LocaleAt != never && before(o.LocaleAt, o.LocaleKey, s.LocaleAt, s.LocaleKey) {
		s.LocaleAt, s.LocaleKey, s.locale = o.LocaleAt, o.LocaleKey, o.locale
	}
	for _, f := range [...]struct {
		dst *uint32
		v   uint32
	}{
		{&s.FirstAt, o.FirstAt}, {&s.PickedUpAt, o.PickedUpAt}, {&s.ActiveAt, o.ActiveAt},
		{&s.DeliveredAt, o.DeliveredAt}, {&s.ExceptionAt, o.ExceptionAt},
		{&s.TypeAt[0], o.TypeAt[0]}, {&s.TypeAt[1], o.TypeAt[1]}, {&s.TypeAt[2], o.TypeAt[2]}, {&s.TypeAt[3], o.TypeAt[3]},
	} {
		if f.v != never {
			*f.dst = minTime(*f.dst, f.v)
		}
	}
	// Customs: the start is the earliest start of either; the end is the
	// earliest customs-ending time of either at or after it, and the
	// endings before it are kept for an even earlier start.
	ends := append(append([]uint32(nil), s.EarlyOut...), o.EarlyOut...)
	for _, t := range [...]uint32{s.CustomsOutAt, o.CustomsOutAt} {
		if t != never {
			ends = append(ends, t)
		}
	}
	if o.CustomsInAt != never {
		s.CustomsInAt = minTime(s.CustomsInAt, o.CustomsInAt)
	}
	s.CustomsOutAt, s.EarlyOut = never, nil
	for _, t := range ends {
		if s.CustomsInAt != never && t >= s.CustomsInAt {
			s.CustomsOutAt = minTime(s.CustomsOutAt, t)
		} else if !slices.Contains(s.EarlyOut, t) {
			s.EarlyOut = append(s.EarlyOut, t)
		}
	}
	slices.Sort(s.EarlyOut)
	if o.PromiseAt != never && before(s.PromiseAt, s.PromiseKey, o.PromiseAt, o.PromiseKey) {
		s.PromiseAt, s.PromiseKey, s.PromisedAt = o.PromiseAt, o.PromiseKey, o.PromisedAt
	}
	if o.LastAt != never && (s.LastAt == never || o.LastAt > s.LastAt || (o.LastAt == s.LastAt && o.LastKey > s.LastKey)) {
		s.LastAt, s.LastKey, s.LastStatus = o.LastAt, o.LastKey, o.LastStatus
	}
	version := max(prev.Version, o.Version)
	s.Version = prev.Version
	if s.figures == prev && slices.Equal(s.EarlyOut, prevOut) {
		return false
	}
	s.Version = version + 1
	return true
}

// value returns the string of h, or "" for the zero handle (a label no event
// carried).
func value(h unique.Handle[string]) string {
	if h == (unique.Handle[string]{}) {
		return ""
	}
	return h.Value()
}

// SetLabels restores the labels of a shipment read back from storage.
func (s *Shipment) SetLabels(carrier, service, merchant, lane string) {
	s.carrier, s.service, s.merchant = unique.Make(carrier), unique.Make(service), unique.Make(merchant)
	s.lane = unique.Make(lane)
}

// SetLocale restores the locale of a shipment read back from storage.
func (s *Shipment) SetLocale(locale string) {
	if locale != "" {
		s.locale = unique.Make(locale)
	}
}

// Locale returns the locale (a BCP 47 tag) of the earliest event that
// carried one: the customer's language as the merchant knows it; "" when
// none did.
func (s *Shipment) Locale() string { return value(s.locale) }

// Carrier returns the carrier code of the shipment's earliest event.
func (s *Shipment) Carrier() string { return value(s.carrier) }

// Service returns the service of the shipment's earliest event.
func (s *Shipment) Service() string { return value(s.service) }

// Merchant returns the merchant of the shipment's earliest event.
func (s *Shipment) Merchant() string { return value(s.merchant) }

// Lane returns "CN-US" from the earliest event that carried both countries.
func (s *Shipment) Lane() string { return value(s.lane) }

// Start returns the start of transit: the first picked_up, else the first
// event that is not info_received; 0 when neither exists.
func (s *Shipment) Start() uint32 {
	if s.PickedUpAt != never {
		return s.PickedUpAt
	}
	return s.ActiveAt
}

// Delivered reports whether a delivered event has been seen.
func (s *Shipment) Delivered() bool { return s.DeliveredAt != never }

// TransitHours returns first delivered − start in hours, clamped at zero; ok
// is false for a shipment not delivered.
func (s *Shipment) TransitHours() (h float64, ok bool) {
	if s.DeliveredAt == never || s.Start() == never {
		return 0, false
	}
	return hours(int64(s.DeliveredAt) - int64(s.Start())), true
}

// HasPromise reports whether any event carried a promised delivery time.
func (s *Shipment) HasPromise() bool { return s.PromiseAt != never }

// OnTime reports whether the shipment was delivered by its promised time; ok
// is false unless it is delivered and has a promise.
func (s *Shipment) OnTime() (onTime, ok bool) {
	if s.DeliveredAt == never || !s.HasPromise() {
		return false, false
	}
	return s.DeliveredAt <= s.PromisedAt, true
}

// EnteredCustoms reports whether the shipment had a customs_clearance or
// customs_held event.
func (s *Shipment) EnteredCustoms() bool { return s.CustomsInAt != never }

// CustomsDwellHours returns the customs dwell in hours; ok is false while
// customs has not been left (or never entered).
func (s *Shipment) CustomsDwellHours() (h float64, ok bool) {
	if s.CustomsInAt == never || s.CustomsOutAt == never {
		return 0, false
	}
	return hours(int64(s.CustomsOutAt) - int64(s.CustomsInAt)), true
}

// HasException reports whether any exception status was seen.
func (s *Shipment) HasException() bool { return s.ExceptionAt != never }

func hours(sec int64) float64 {
	if sec < 0 {
		return 0
	}
	return float64(sec) / 3600
}

// Day returns the UTC day that contains Unix time t.
func Day(t uint32) time.Time {
	return time.Unix(int64(t-t%86400), 0).UTC()
}

// Group is the carrier, service and lane of a shipment as interned handles:
// a map key that costs no hashing of strings.
type Group struct{ Carrier, Service, Lane unique.Handle[string] }

// Group returns the shipment's carrier, service and lane.
func (s *Shipment) Group() Group { return Group{s.carrier, s.service, s.lane} }

// Strings returns the carrier, service and lane of g ("" for a label no
// event carried).
func (g Group) Strings() (carrier, service, lane string) {
	return value(g.Carrier), value(g.Service), value(g.Lane)
}
