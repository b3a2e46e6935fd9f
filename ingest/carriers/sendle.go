package carriers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Sendle reads Sendle tracking responses (GET /api/tracking/{ref}):
// tracking_events[] with event_type, scan_time (UTC) and local times.
//
// Sendle's response does not repeat the reference it was asked about, so
// the caller sets TrackingNumber to the one it polled; without it every
// event is a missing tracking_number Problem. Lookup("sendle") returns a
// Sendle without one.
type Sendle struct {
	TrackingNumber string // the Sendle reference the response answers; required for events
}

var _ Adapter = Sendle{}

// Name returns "sendle".
func (Sendle) Name() string { return "sendle" }

type sendleResponse struct {
	TrackingEvents json.RawMessage `json:"tracking_events"`
	Origin         struct {
		Country text `json:"country"`
	} `json:"origin"`
	Destination struct {
		Country text `json:"country"`
	} `json:"destination"`
}

type sendleEvent struct {
	EventType   text `json:"event_type"`
	ScanTime    text `json:"scan_time"`
	DisplayTime text `json:"display_time"`
	Description text `json:"description"`
	Reason      text `json:"reason"`
	Location    text `json:"location"`
}

// Parse implements Adapter.
func (s Sendle) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want a Sendle tracking response: a JSON object with tracking_events"
	if err := checkSize(s.Name(), payload); err != nil {
		return Result{}, err
	}
	var resp sendleResponse
	if err := decodeObject(payload, &resp); err != nil {
		return Result{}, malformed(s.Name(), want, err)
	}
	if resp.TrackingEvents == nil {
		return Result{}, malformed(s.Name(), want, nil)
	}
	events, err := records(resp.TrackingEvents)
	if err != nil {
		return Result{}, malformed(s.Name(), want, fmt.Errorf("tracking_events: %w", err))
	}
	b := newBuilder(s.Name(), now)
	origin, dest := country(resp.Origin.Country.String()), country(resp.Destination.Country.String())
	for k, raw := range events {
		idx := b.record()
		p := at("tracking_events", k)
		var e sendleEvent
		if !b.decodeRecord(idx, p, raw, &e) {
			continue
		}
		ts, field := e.ScanTime.String(), p+".scan_time"
		if ts == "" {
			ts, field = e.DisplayTime.String(), p+".display_time"
		}
		when, ok := b.when(idx, field, raw, ts, nil)
		if !ok {
			continue
		}
		code := e.EventType.String()
		desc := e.Description.String()
		if r := e.Reason.String(); r != "" {
			desc = joinText(desc, r)
		}
		st, ok := sendleEventTypes[code]
		if !ok {
			st, ok = classifyText(joinText(code, desc))
		}
		if !ok {
			b.unknownStatus(idx, p+".event_type", raw, code, desc)
			continue
		}
		b.emit(idx, p, raw, scan{
			tracking: s.TrackingNumber, carrier: "sendle", origin: origin, dest: dest,
			code: code, text: desc, status: sharpen(st, desc), at: when, loc: schemas.Location{City: e.Location.String()},
		})
	}
	return b.res, nil
}
