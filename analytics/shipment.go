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

	// Each *At, *Key pair is the (occurred_at, tie key) of the event that
	// set a label; see tieKey.
	IDAt, IDKey     uint32 // the earliest event: carrier, service and merchant
	LaneAt, LaneKey uint32 // the earliest event that carried both countries

	FirstAt     uint32 // earliest event of any status
	PickedUpAt  uint32 // first picked_up
	ActiveAt    uint32 // first event whose status is not info_received
	DeliveredAt uint32 // first delivered
	ExceptionAt uint32 // first customs_held, delivery_failed, returned or exception
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
