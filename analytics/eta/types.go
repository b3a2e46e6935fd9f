package eta

import (
	"fmt"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Milestone is where a shipment stands for the model: the status of its
// latest scan and whether it has reached the destination country. The same
// status means different things before and after arrival (an in_transit scan
// at the origin sorting centre or at the delivery depot), so the two are
// told apart.
type Milestone uint8

// NewMilestone returns the milestone of a shipment whose latest scan has
// status st; inDestination says whether it has been seen in its destination
// country (arrived, in customs, or in the last mile).
func NewMilestone(st schemas.Status, inDestination bool) Milestone {
	m := Milestone(st) << 1
	if inDestination || destinationStatus(st) {
		m |= 1
	}
	return m
}

// destinationStatus reports whether a scan with status st can only happen
// in the destination country.
func destinationStatus(st schemas.Status) bool {
	switch st {
	case schemas.ArrivedDestination, schemas.CustomsClearance, schemas.CustomsHeld, schemas.CustomsReleased,
		schemas.OutForDelivery, schemas.AvailableForPickup, schemas.DeliveryFailed, schemas.Delivered:
		return true
	}
	return false
}

// Status returns the status of the milestone's scan.
func (m Milestone) Status() schemas.Status { return schemas.Status(m >> 1) }

// InDestination reports whether the shipment had reached its destination
// country.
func (m Milestone) InDestination() bool { return m&1 == 1 }

const destSuffix = "_destination"

// String names the milestone: the status code, followed by "_destination"
// for a status that also occurs before arrival (in_transit_destination).
func (m Milestone) String() string {
	st := m.Status()
	if m.InDestination() && !destinationStatus(st) {
		return st.String() + destSuffix
	}
	return st.String()
}

// ParseMilestone is the inverse of Milestone.String.
func ParseMilestone(s string) (Milestone, error) {
	if st, err := schemas.ParseStatus(s); err == nil {
		return NewMilestone(st, false), nil
	}
	if base, ok := strings.CutSuffix(s, destSuffix); ok {
		if st, err := schemas.ParseStatus(base); err == nil && !destinationStatus(st) {
			return NewMilestone(st, true), nil
		}
	}
	return 0, fmt.Errorf("unknown milestone %q", s)
}

// Visit is one scan of a delivered shipment's journey, as the model learns
// from it: when it happened and the milestone it put the shipment at.
type Visit struct {
	At        uint32 // Unix seconds
	Milestone Milestone
}

// Delivery is what the model learns from: a delivered shipment, its groups
// and its journey up to delivery.
type Delivery struct {
	TrackingNumber string
	Carrier        string
	Service        string
	Lane           string  // "CN-US"; empty when no event carried both countries
	Start          uint32  // start of transit (DESIGN section 3), Unix seconds; 0 when unknown
	DeliveredAt    uint32  // first delivered, Unix seconds
	Visits         []Visit // scans before DeliveredAt, in occurred order
	// Learn is the model version that learns it (see LearnVersion); 0 when
	// the caller does not say.
	Learn uint32
}

// Basis says what a prediction rests on: the group of past deliveries it was
// learned from, or, with nothing learned, the promised date or the prior.
type Basis uint8

// The bases, from the most specific group to the cold start.
const (
	BasisCarrierServiceLane Basis = iota // carrier, service and lane
	BasisCarrierLane                     // carrier and lane, any service
	BasisLane                            // the lane, any carrier
	BasisDestination                     // the destination country, any origin
	BasisGlobal                          // every delivery
	BasisPromised                        // nothing learned: the promised date
	BasisPrior                           // nothing learned and no promise: the documented prior
	BasisDelivered                       // not a prediction: the shipment was delivered then
	numBases
)

var basisNames = [numBases]string{"carrier_service_lane", "carrier_lane", "lane", "destination", "global", "promised", "prior", "delivered"}

// String returns the basis as written in the basis field, e.g. "carrier_lane".
func (b Basis) String() string {
	if b >= numBases {
		return "unknown"
	}
	return basisNames[b]
}

// ParseBasis is the inverse of Basis.String.
func ParseBasis(s string) (Basis, error) {
	for i, n := range basisNames {
		if n == s {
			return Basis(i), nil
		}
	}
	return 0, fmt.Errorf("unknown basis %q", s)
}

// Prediction is one predicted delivery time: p10, p50 and p90 as Unix
// seconds, made as of event time AsOf at a milestone, by a model version.
type Prediction struct {
	AsOf          uint32 // event time the prediction was made at (the latest scan)
	Milestone     Milestone
	P10, P50, P90 uint32 // Unix seconds; P10 <= P50 <= P90
	// Version is the model version: the Unix time (a UTC day start) before
	// which the deliveries it learned from happened.
	Version uint32
	Basis   Basis
}

// Record is one prediction of one shipment with the labels it is filed
// under: what the processor writes, the CLI prints and the export holds.
type Record struct {
	TrackingNumber string
	Carrier        string
	Service        string
	Lane           string
	Merchant       string
	Status         schemas.Status // of the latest scan when predicted
	PromisedAt     uint32         // Unix seconds; 0 when no event carried a promise
	Start          uint32         // start of transit, Unix seconds; 0 when unknown
	// Rev orders the predictions of one shipment: the latest has the
	// largest (the shipment state's version).
	Rev uint64
	// Learn is the first model version that may count this prediction as
	// a scan still under way (see LearnVersion).
	Learn uint32
	Prediction
}

// Outcome is a delivered shipment as the processor records it at delivery:
// with the predictions already stored for it, it makes the accuracy
// figures and the deliveries the model learns from.
type Outcome struct {
	TrackingNumber string
	Carrier        string
	Service        string
	Lane           string
	Merchant       string
	Start          uint32
	DeliveredAt    uint32
	PromisedAt     uint32
	Rev            uint64 // the shipment state's version; the largest wins
	Learn          uint32 // the first model version that learns it (see LearnVersion)
}

// LearnVersion returns the first model version that learns something that
// happened at t and was processed while the partition's watermark was w:
// the day after t, or after w minus lateness when the event came late. A
// version v learns exactly what has LearnVersion in (previous version, v],
// so its content does not depend on when it was built, only on the events
// and the order each partition saw them in; and once a partition's
// watermark minus lateness has reached v, nothing it processes later can
// belong to v (see Complete).
func LearnVersion(t, w uint32, lateness uint32) uint32 {
	x := t
	if w > lateness && w-lateness > x {
		x = w - lateness
	}
	return x - x%day + day
}

// JourneyBound bounds how long before its delivery a shipment's predictions
// (and a delivery time that a late event superseded) are looked for when a
// version learns: they span its journey, and the bound covers processor
// --lost-after's 90-day default, past which a shipment without events
// counts as lost. A longer journey, or a larger --lost-after, leaves its
// earliest predictions out of what is learned. Whoever builds a version
// (from storage, or from memory in the processor) applies the same bound:
// a delivery learned by version v with learning range (from, v] counts the
// outcomes delivered from JourneyBound before from, and the scans made from
// 2×JourneyBound before it.
const JourneyBound = 100 * 24 * time.Hour

// Complete returns the latest model version whose content a partition at
// watermark w has processed in full.
func Complete(w uint32, lateness uint32) uint32 {
	if w <= lateness {
		return 0
	}
	x := w - lateness
	return x - x%day
}
