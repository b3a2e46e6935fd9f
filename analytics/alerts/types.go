package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Kafka topics the processor publishes to; `shiplens notify` consumes them.
const (
	AlertsTopic        = "shiplens.alerts"
	NotificationsTopic = "shiplens.notifications"
	// DeadTopic receives the records `shiplens notify` could not deliver.
	DeadTopic = "shiplens.notify.dlq"
)

// Type is the kind of an alert.
type Type string

// The alert types.
const (
	Stalled        Type = "stalled"         // no event for longer than a fixed limit
	Slow           Type = "slow"            // longer at the milestone than the learned p95
	CustomsHeld    Type = "customs_held"    // a customs hold
	CustomsFailed  Type = "customs_failed"  // clearance failed: returned or an exception while in customs
	DeliveryFailed Type = "delivery_failed" // a failed delivery attempt; Attempts counts them
	Returned       Type = "returned"        // returning or returned to sender
	Lost           Type = "lost"            // an exception and then no event for N days
	PredictedLate  Type = "predicted_late"  // the ETA p50 falls after promised_at
)

// Types lists every alert type, in a stable order.
var Types = []Type{Stalled, Slow, CustomsHeld, CustomsFailed, DeliveryFailed, Returned, Lost, PredictedLate}

// Tier says who acts on an alert.
type Tier string

// The tiers, least urgent first.
const (
	Info     Tier = "info"
	Warning  Tier = "warning"
	Critical Tier = "critical"
)

// Rank orders tiers: info 1, warning 2, critical 3, unknown 0.
func (t Tier) Rank() int {
	switch t {
	case Info:
		return 1
	case Warning:
		return 2
	case Critical:
		return 3
	}
	return 0
}

// State is where an alert is in its lifecycle.
type State string

// The states.
const (
	Open     State = "open"
	Resolved State = "resolved"
)

// Change is what a transition did to its alert.
type Change string

// The changes, in the order they can happen to one alert.
const (
	Opened    Change = "opened"
	Updated   Change = "updated"   // more attempts, or a later anchor while still open
	Escalated Change = "escalated" // open longer than the rule's escalation: tier raised
	Closed    Change = "resolved"
)

// Alert is one transition of an alert: the record on shiplens.alerts and a
// row of the ClickHouse alerts table (whose latest row per ID is the
// alert's state). Times are RFC 3339 UTC in JSON and event time: the
// partition's watermark, never the wall clock.
type Alert struct {
	ID             string    `json:"alert_id"`      // deterministic: see AlertID
	TransitionID   string    `json:"transition_id"` // ID + change + seq: the idempotency key of this record
	Change         Change    `json:"change"`
	Seq            uint32    `json:"seq"` // 1 for the opening, then one more per transition
	Type           Type      `json:"type"`
	Rule           string    `json:"rule"` // the rule's name in the rules file
	Tier           Tier      `json:"tier"`
	State          State     `json:"state"`
	TrackingNumber string    `json:"tracking_number"`
	Partition      int       `json:"partition"`
	Carrier        string    `json:"carrier"`
	Service        string    `json:"service,omitempty"`
	Lane           string    `json:"lane,omitempty"`
	Merchant       string    `json:"merchant,omitempty"`
	Status         string    `json:"status"`              // the shipment's latest status
	Milestone      string    `json:"milestone,omitempty"` // as the ETA model names it
	Attempts       int       `json:"attempts,omitempty"`  // delivery_failed: failed attempts so far
	LastEventAt    time.Time `json:"last_event_at"`       // the shipment's latest scan
	OpenedAt       time.Time `json:"opened_at"`           // when the condition began (event time)
	EscalatedAt    time.Time `json:"escalated_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	At             time.Time `json:"at"` // event time of this transition: the watermark that made it
	// Limit is the time at the milestone that opened a stalled, slow or
	// lost alert (the rule's limit, or the learned p95), in hours.
	LimitHours float64 `json:"limit_hours,omitempty"`
	Detail     string  `json:"detail"` // one line of English for people
	// PromisedAt and PredictedAt: predicted_late's promise and ETA p50.
	PromisedAt  time.Time `json:"promised_at,omitzero"`
	PredictedAt time.Time `json:"predicted_at,omitzero"`
}

// AlertID returns the deterministic id of an alert of rule on a shipment,
// opened at opened (event time): the same events give the same id on any
// run, replay or processor.
func AlertID(trackingNumber, rule string, opened time.Time) string {
	return digest("alert", trackingNumber, rule, strconv.FormatInt(opened.Unix(), 10))
}

// TransitionID names the seq-th transition of alert id.
func TransitionID(id string, c Change, seq uint32) string {
	return fmt.Sprintf("%s:%d:%s", id, seq, c)
}

// Kind is the milestone a customer notification tells about.
type Kind string

// The notification kinds.
const (
	Shipped            Kind = "shipped"             // picked up by the carrier
	ArrivedDestination Kind = "arrived_destination" // arrived in the destination country
	ClearedCustoms     Kind = "cleared_customs"     // import customs released
	OutForDelivery     Kind = "out_for_delivery"    // out for delivery or ready for pickup
	Delivered          Kind = "delivered"
	ExceptionKind      Kind = "exception"   // with ExceptionType and its standard explanation
	ETAChanged         Kind = "eta_changed" // the predicted delivery day moved by more than a day
	ETAReminder        Kind = "eta_reminder"
)

// Kinds lists every notification kind, in a stable order.
var Kinds = []Kind{Shipped, ArrivedDestination, ClearedCustoms, OutForDelivery, Delivered, ExceptionKind, ETAChanged, ETAReminder}

// ExceptionTypes are the exception types a customer is told about, each
// with a standard explanation (package messages).
var ExceptionTypes = []string{"customs_held", "customs_failed", "delivery_failed", "returned", "lost", "exception"}

// Notification is a record on shiplens.notifications: one message to the
// customer of a shipment, already rendered in its language.
type Notification struct {
	ID             string `json:"notification_id"` // deterministic: see NotificationID; the idempotency key
	Kind           Kind   `json:"kind"`
	ExceptionType  string `json:"exception_type,omitempty"` // kind exception: one of ExceptionTypes
	TrackingNumber string `json:"tracking_number"`
	Partition      int    `json:"partition"`
	Carrier        string `json:"carrier"`
	Service        string `json:"service,omitempty"`
	Lane           string `json:"lane,omitempty"`
	Merchant       string `json:"merchant,omitempty"`
	Status         string `json:"status"`
	Locale         string `json:"locale"`        // the customer's language: en, zh, es, fr or de
	LocaleSource   string `json:"locale_source"` // shipment, merchant, country or default
	// Subject and Body are the text in Locale (Render); the processor leaves
	// them empty and `shiplens notify` renders them when it delivers.
	Subject    string    `json:"subject,omitempty"`
	Body       string    `json:"body,omitempty"`
	Place      string    `json:"place,omitempty"` // city of the scan that made it, when the carrier gave one
	OccurredAt time.Time `json:"occurred_at"`     // event time of the milestone
	// The ETA as it stood: p50 and its p10-p90 range; zero when none.
	ETA     time.Time `json:"eta,omitzero"`
	ETAFrom time.Time `json:"eta_from,omitzero"`
	ETATo   time.Time `json:"eta_to,omitzero"`
	// PreviousETA is the p50 the customer was last told, for eta_changed.
	PreviousETA time.Time `json:"previous_eta,omitzero"`
	// Attempts: an exception delivery_failed's failed attempts so far.
	Attempts int `json:"attempts,omitempty"`
}

// NotificationID returns the id of the notification of kind about a
// shipment. Each milestone is notified at most once per shipment, so the id
// depends on the kind alone, except for an eta_changed, one per new
// predicted day, and an exception, one per exception type.
func NotificationID(trackingNumber string, k Kind, qualifier string) string {
	return digest("notification", trackingNumber, string(k), qualifier)
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
