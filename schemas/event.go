// Package schemas holds the contracts every other package of shiplens speaks:
// the canonical tracking event and its validation, the status taxonomy with
// display text, the JSON Schema for outside producers and the ClickHouse
// migrations. It imports nothing of shiplens and must stay free of I/O other
// than reading its own embedded files.
package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxEventSize is the largest canonical event accepted, in bytes.
const MaxEventSize = 64 << 10

// MaxFutureSkew is how far past the receiver's clock an event may lie before it
// is rejected as a bad timestamp.
const MaxFutureSkew = 24 * time.Hour

// Event is one canonical carrier scan (DESIGN section 2).
type Event struct {
	EventID            string    `json:"event_id"`
	TrackingNumber     string    `json:"tracking_number"`
	Carrier            string    `json:"carrier"`
	Service            string    `json:"service,omitempty"`
	OriginCountry      string    `json:"origin_country,omitempty"`
	DestinationCountry string    `json:"destination_country,omitempty"`
	Status             Status    `json:"status"`
	CarrierStatus      string    `json:"carrier_status,omitempty"`
	Description        string    `json:"description,omitempty"`
	OccurredAt         time.Time `json:"occurred_at"`
	Location           *Location `json:"location,omitempty"`
	PromisedAt         time.Time `json:"promised_at,omitzero"`
	Merchant           string    `json:"merchant,omitempty"`
}

// Location is where a scan happened; every field is optional.
type Location struct {
	Country    string   `json:"country,omitempty"`
	City       string   `json:"city,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	Lat        *float64 `json:"lat,omitempty"`
	Lon        *float64 `json:"lon,omitempty"`
}

// Lane returns "CN-US" style lane of the event, or "" when either country is
// missing.
func (e *Event) Lane() string {
	if e.OriginCountry == "" || e.DestinationCountry == "" {
		return ""
	}
	return e.OriginCountry + "-" + e.DestinationCountry
}

// Reason classifies why input was rejected; it labels DLQ records and metrics.
type Reason string

// The rejection reasons of DESIGN section 10.
const (
	ReasonMalformed     Reason = "malformed_json"
	ReasonOversize      Reason = "oversize"
	ReasonMissingField  Reason = "missing_field"
	ReasonInvalidField  Reason = "invalid_field"
	ReasonUnknownField  Reason = "unknown_field"
	ReasonUnknownStatus Reason = "unknown_status"
	ReasonBadTimestamp  Reason = "bad_timestamp"
	ReasonFutureTime    Reason = "future_timestamp"
	// ReasonInternal marks a record that made shiplens itself fail: a bug to
	// fix, after which the record can be replayed.
	ReasonInternal Reason = "internal_error"
)

// InvalidError says why an event was rejected and which field is at fault.
type InvalidError struct {
	Reason Reason
	Field  string // empty when the whole record is at fault
	Detail string
}

// Error returns e.g. "invalid event: status: unknown status \"lost\"".
func (e *InvalidError) Error() string {
	if e.Field == "" {
		return "invalid event: " + e.Detail
	}
	return "invalid event: " + e.Field + ": " + e.Detail
}

// ReasonOf returns the rejection reason carried by err, or ReasonMalformed when
// err is not an *InvalidError.
func ReasonOf(err error) Reason {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return ReasonMalformed
}

func invalid(r Reason, field, format string, args ...any) *InvalidError {
	return &InvalidError{Reason: r, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// wireEvent is the JSON shape, with times kept as text so that each bad
// timestamp gets its own field-level error.
type wireEvent struct {
	EventID            string    `json:"event_id"`
	TrackingNumber     string    `json:"tracking_number"`
	Carrier            string    `json:"carrier"`
	Service            string    `json:"service,omitempty"`
	OriginCountry      string    `json:"origin_country,omitempty"`
	DestinationCountry string    `json:"destination_country,omitempty"`
	Status             string    `json:"status"`
	CarrierStatus      string    `json:"carrier_status,omitempty"`
	Description        string    `json:"description,omitempty"`
	OccurredAt         string    `json:"occurred_at"`
	Location           *Location `json:"location,omitempty"`
	PromisedAt         string    `json:"promised_at,omitempty"`
	Merchant           string    `json:"merchant,omitempty"`
}

// Decode parses and validates one canonical event. now is the receiver's clock,
// used to reject timestamps that lie in the future. Unknown fields are
// rejected so that a producer's typo does not silently lose data.
func Decode(b []byte, now time.Time) (Event, error) {
	return decodeFast(b, now)
}

func (w *wireEvent) event(now time.Time) (Event, error) {
	e := Event{
		EventID:            w.EventID,
		TrackingNumber:     w.TrackingNumber,
		Carrier:            w.Carrier,
		Service:            w.Service,
		OriginCountry:      w.OriginCountry,
		DestinationCountry: w.DestinationCountry,
		CarrierStatus:      w.CarrierStatus,
		Description:        w.Description,
		Location:           w.Location,
		Merchant:           w.Merchant,
	}
	if w.Status == "" {
		return Event{}, invalid(ReasonMissingField, "status", "required")
	}
	st, err := ParseStatus(w.Status)
	if err != nil {
		return Event{}, invalid(ReasonUnknownStatus, "status", "%v; want one of %s", err, statusList())
	}
	e.Status = st
	if w.OccurredAt == "" {
		return Event{}, invalid(ReasonMissingField, "occurred_at", "required")
	}
	if e.OccurredAt, err = parseTime("occurred_at", w.OccurredAt); err != nil {
		return Event{}, err
	}
	if w.PromisedAt != "" {
		if e.PromisedAt, err = parseTime("promised_at", w.PromisedAt); err != nil {
			return Event{}, err
		}
	}
	if err := e.Validate(now); err != nil {
		return Event{}, err
	}
	return e, nil
}

var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	// maxTime keeps times within what RFC 3339 (four-digit years) can write.
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid(ReasonBadTimestamp, field, "%q is not an RFC 3339 time such as 2026-05-01T08:30:00Z", s)
	}
	return t.UTC(), nil
}

// Validate checks every rule of DESIGN section 2 on an event built in code,
// as Decode does on parsed input. now bounds occurred_at from above.
func (e *Event) Validate(now time.Time) error {
	if err := checkText("event_id", e.EventID, 1, 128); err != nil {
		return err
	}
	if err := checkText("tracking_number", e.TrackingNumber, 1, 64); err != nil {
		return err
	}
	if e.Carrier == "" {
		return invalid(ReasonMissingField, "carrier", "required")
	}
	if !isCarrierCode(e.Carrier) {
		return invalid(ReasonInvalidField, "carrier", "%q is not a lowercase carrier code such as dhl, 4px or chinapost", e.Carrier)
	}
	if !e.Status.Valid() {
		return invalid(ReasonUnknownStatus, "status", "unknown status; want one of %s", statusList())
	}
	for _, c := range []struct{ field, v string }{{"origin_country", e.OriginCountry}, {"destination_country", e.DestinationCountry}} {
		if c.v != "" && !isCountry(c.v) {
			return invalid(ReasonInvalidField, c.field, "%q is not an upper-case ISO 3166-1 alpha-2 code such as CN", c.v)
		}
	}
	if e.OccurredAt.IsZero() {
		return invalid(ReasonMissingField, "occurred_at", "required")
	}
	if e.OccurredAt.Before(minTime) {
		return invalid(ReasonBadTimestamp, "occurred_at", "%s is before 2000-01-01", e.OccurredAt.Format(time.RFC3339))
	}
	if !now.IsZero() && e.OccurredAt.After(now.Add(MaxFutureSkew)) {
		return invalid(ReasonFutureTime, "occurred_at", "%s is more than %s in the future", e.OccurredAt.Format(time.RFC3339), MaxFutureSkew)
	}
	if e.OccurredAt.After(maxTime) {
		return invalid(ReasonBadTimestamp, "occurred_at", "%s is after 9999-12-31", e.OccurredAt.Format(time.RFC3339))
	}
	if !e.PromisedAt.IsZero() && e.PromisedAt.After(maxTime) {
		return invalid(ReasonBadTimestamp, "promised_at", "%s is after 9999-12-31", e.PromisedAt.Format(time.RFC3339))
	}
	if !e.PromisedAt.IsZero() && e.PromisedAt.Before(minTime) {
		return invalid(ReasonBadTimestamp, "promised_at", "%s is before 2000-01-01", e.PromisedAt.Format(time.RFC3339))
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{{"service", e.Service, 32}, {"carrier_status", e.CarrierStatus, 128}, {"description", e.Description, 1024}, {"merchant", e.Merchant, 64}} {
		if c.v != "" {
			if err := checkText(c.field, c.v, 0, c.max); err != nil {
				return err
			}
		}
	}
	if l := e.Location; l != nil {
		if l.Country != "" && !isCountry(l.Country) {
			return invalid(ReasonInvalidField, "location.country", "%q is not an upper-case ISO 3166-1 alpha-2 code", l.Country)
		}
		if l.Lat != nil && !(*l.Lat >= -90 && *l.Lat <= 90) { // also rejects NaN
			return invalid(ReasonInvalidField, "location.lat", "%g is outside [-90, 90]", *l.Lat)
		}
		if l.Lon != nil && !(*l.Lon >= -180 && *l.Lon <= 180) {
			return invalid(ReasonInvalidField, "location.lon", "%g is outside [-180, 180]", *l.Lon)
		}
		if err := checkText("location.city", l.City, 0, 128); err != nil {
			return err
		}
		if err := checkText("location.postal_code", l.PostalCode, 0, 32); err != nil {
			return err
		}
	}
	return nil
}

func checkText(field, v string, minLen, maxLen int) error {
	if len(v) < minLen {
		return invalid(ReasonMissingField, field, "required")
	}
	if !utf8.ValidString(v) {
		return invalid(ReasonInvalidField, field, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > maxLen {
		return invalid(ReasonInvalidField, field, "%d characters, more than %d", n, maxLen)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return invalid(ReasonInvalidField, field, "contains control character %U", r)
		}
	}
	return nil
}

func isCarrierCode(s string) bool {
	if len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func statusList() string {
	codes := make([]string, 0, numStatuses)
	for _, s := range Statuses() {
		codes = append(codes, s.String())
	}
	return strings.Join(codes, ", ")
}

// Marshal encodes e as one canonical JSON object, times in UTC RFC 3339.
func (e *Event) Marshal() ([]byte, error) {
	if !e.Status.Valid() {
		return nil, fmt.Errorf("cannot marshal event %q: invalid status %d", e.EventID, uint8(e.Status))
	}
	w := wireEvent{
		EventID:            e.EventID,
		TrackingNumber:     e.TrackingNumber,
		Carrier:            e.Carrier,
		Service:            e.Service,
		OriginCountry:      e.OriginCountry,
		DestinationCountry: e.DestinationCountry,
		Status:             e.Status.String(),
		CarrierStatus:      e.CarrierStatus,
		Description:        e.Description,
		OccurredAt:         e.OccurredAt.UTC().Format(time.RFC3339Nano),
		Location:           e.Location,
		Merchant:           e.Merchant,
	}
	if !e.PromisedAt.IsZero() {
		w.PromisedAt = e.PromisedAt.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(&w)
}
