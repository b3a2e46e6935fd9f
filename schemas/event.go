package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
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
	Locale             string    `json:"locale,omitempty"` // BCP 47, as sent; see Language
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

// Language returns the primary language subtag of locale in lower case: "zh"
// for "zh-CN", "pt" for "PT-br", "yue" for "yue-HK". It returns "" for ""
// and for anything that is not a valid locale (the rule of the event's
// locale field). Status.Text and Category.Text take the result; they fall
// back to English for a language outside Languages, such as "pt".
func Language(locale string) string {
	if len(locale) > fields[fLocale].MaxLen || !isLocale(locale) {
		return ""
	}
	if i := strings.IndexByte(locale, '-'); i >= 0 {
		locale = locale[:i]
	}
	return strings.ToLower(locale) // no allocation when already lower case
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

// wireEvent is the JSON shape Marshal writes, with times as text.
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
	Locale             string    `json:"locale,omitempty"`
}

// rawEvent is a parsed event before its rules are checked: every string as
// it was written (the status and the times too, "" when absent), indexed
// like fields, and the location with its strings filled in.
type rawEvent struct {
	s   [numStrFields]string
	loc *Location

	// For textsOK, bit 1<<f for field f: filled when s[f] is not "", long
	// when s[f] may have more than the field's MaxLen characters (it has
	// more bytes, or had between its quotes). measure sets them.
	filled, long uint32
}

// measure sets r.filled and r.long from r.s.
func (r *rawEvent) measure() {
	r.filled, r.long = 0, 0
	for f, v := range r.s {
		if v != "" {
			r.filled |= 1 << f
		}
		if len(v) > int(textMaxLen[f]) {
			r.long |= 1 << f
		}
	}
}

// Decode parses and validates one canonical event. now is the receiver's
// clock, used to reject timestamps that lie in the future; a zero now skips
// that rule. Unknown and repeated keys are rejected so that a producer's
// typo or a second value does not silently lose data. See the package
// documentation for the contract.
func Decode(b []byte, now time.Time) (Event, error) {
	return decodeFast(b, now)
}

// event checks r and builds its event; errors are *InvalidError.
func (r *rawEvent) event(now time.Time) (Event, error) {
	e := Event{
		EventID:            r.s[fEventID],
		TrackingNumber:     r.s[fTrackingNumber],
		Carrier:            r.s[fCarrier],
		Service:            r.s[fService],
		OriginCountry:      r.s[fOriginCountry],
		DestinationCountry: r.s[fDestinationCountry],
		CarrierStatus:      r.s[fCarrierStatus],
		Description:        r.s[fDescription],
		Location:           r.loc,
		Merchant:           r.s[fMerchant],
		Locale:             r.s[fLocale],
	}
	// The status and the times first: their text is gone once parsed.
	if r.s[fStatus] == "" {
		return Event{}, invalid(ReasonMissingField, fields[fStatus].Path, "required")
	}
	st, err := ParseStatus(r.s[fStatus])
	if err != nil {
		return Event{}, invalid(ReasonUnknownStatus, fields[fStatus].Path, "%v; want one of %s", err, statusList())
	}
	e.Status = st
	if r.s[fOccurredAt] == "" {
		return Event{}, invalid(ReasonMissingField, fields[fOccurredAt].Path, "required")
	}
	var terr *InvalidError
	if e.OccurredAt, terr = parseTime(fOccurredAt, r.s[fOccurredAt]); terr != nil {
		return Event{}, terr
	}
	if r.s[fPromisedAt] != "" {
		if e.PromisedAt, terr = parseTime(fPromisedAt, r.s[fPromisedAt]); terr != nil {
			return Event{}, terr
		}
	}
	if err := e.Validate(now); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Validate checks every rule of the field table (Fields) on an event built
// in code, as Decode does on parsed input, field by field in the order of
// Fields. Empty strings, zero times and a nil location or coordinate are
// absent. now bounds occurred_at from above; a zero now skips that rule.
func (e *Event) Validate(now time.Time) error {
	for _, f := range wireOrder {
		if err := e.check(f, now); err != nil {
			return err
		}
	}
	return nil
}

// check checks field f of e.
func (e *Event) check(f int, now time.Time) *InvalidError {
	fd := &fields[f]
	switch {
	case fd.Format == FormatStatus:
		if !e.Status.Valid() {
			return invalid(ReasonUnknownStatus, fd.Path, "unknown status; want one of %s", statusList())
		}
	case fd.Format == FormatTime:
		t := e.OccurredAt
		if f == fPromisedAt {
			t = e.PromisedAt
		}
		if t.IsZero() {
			if fd.Required {
				return invalid(ReasonMissingField, fd.Path, "required")
			}
			return nil
		}
		return checkTime(f, t, now)
	case fd.Type == "number":
		if p := e.number(f); p != nil {
			return checkNumber(f, *p)
		}
	case fd.Type == "string":
		if v, ok := e.text(f); ok {
			return checkText(f, v)
		}
	}
	return nil
}

// text returns the value of string field f (not the status or a time), and
// false when it is in a location the event does not have.
func (e *Event) text(f int) (string, bool) {
	switch f {
	case fEventID:
		return e.EventID, true
	case fTrackingNumber:
		return e.TrackingNumber, true
	case fCarrier:
		return e.Carrier, true
	case fService:
		return e.Service, true
	case fOriginCountry:
		return e.OriginCountry, true
	case fDestinationCountry:
		return e.DestinationCountry, true
	case fCarrierStatus:
		return e.CarrierStatus, true
	case fDescription:
		return e.Description, true
	case fMerchant:
		return e.Merchant, true
	case fLocale:
		return e.Locale, true
	}
	if e.Location == nil {
		return "", false
	}
	switch f {
	case fLocCountry:
		return e.Location.Country, true
	case fLocCity:
		return e.Location.City, true
	case fLocPostalCode:
		return e.Location.PostalCode, true
	}
	panic(fmt.Sprintf("schemas: field %d is no text", f))
}

// number returns the value of number field f, or nil.
func (e *Event) number(f int) *float64 {
	if e.Location == nil {
		return nil
	}
	if f == fLat {
		return e.Location.Lat
	}
	return e.Location.Lon
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
		Locale:             e.Locale,
	}
	if !e.PromisedAt.IsZero() {
		w.PromisedAt = e.PromisedAt.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(&w)
}

// MarshalJSON implements json.Marshaler with Marshal, so that an event inside
// other JSON has the canonical form.
func (e Event) MarshalJSON() ([]byte, error) { return e.Marshal() }

// UnmarshalJSON implements json.Unmarshaler with Decode without a clock:
// every rule holds but the bound on future times.
func (e *Event) UnmarshalJSON(b []byte) error {
	ev, err := Decode(b, time.Time{})
	if err != nil {
		return err
	}
	*e = ev
	return nil
}
