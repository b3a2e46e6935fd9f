package carriers

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// USPS reads USPS Tracking API v3 responses (GET /tracking/v3/tracking/{n}
// with expand=DETAIL): one tracking object with trackingEvents[], or an
// array of them.
//
// Times: GMTTimestamp (UTC) when present, else eventTimestamp with
// GMTOffset, else eventTimestamp as UTC. Countries: USPS leaves eventCountry
// empty for domestic scans, so a scan with a state and no country is in the
// US; likewise origin and destination are US when only a US city, state or
// ZIP is given and no country.
type USPS struct{}

var _ Adapter = USPS{}

// Name returns "usps".
func (USPS) Name() string { return "usps" }

type uspsTracking struct {
	TrackingNumber         text            `json:"trackingNumber"`
	MailClass              text            `json:"mailClass"`
	OriginState            text            `json:"originState"`
	OriginZIP              text            `json:"originZIP"`
	OriginCountry          text            `json:"originCountry"`
	OriginCountryCode      text            `json:"originCountryCode"`
	DestinationState       text            `json:"destinationState"`
	DestinationZIP         text            `json:"destinationZIP"`
	DestinationCountry     text            `json:"destinationCountry"`
	DestinationCountryCode text            `json:"destinationCountryCode"`
	TrackingEvents         json.RawMessage `json:"trackingEvents"`
	Error                  *struct {
		Code    text `json:"code"`
		Message text `json:"message"`
	} `json:"error"`
}

type uspsEvent struct {
	EventType      text `json:"eventType"`
	EventCode      text `json:"eventCode"`
	EventTimestamp text `json:"eventTimestamp"`
	GMTTimestamp   text `json:"GMTTimestamp"`
	GMTOffset      text `json:"GMTOffset"`
	EventCountry   text `json:"eventCountry"`
	EventCity      text `json:"eventCity"`
	EventState     text `json:"eventState"`
	EventZIP       text `json:"eventZIP"`
}

// Parse implements Adapter.
func (u USPS) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want a USPS Tracking API v3 response: a JSON object (or array of them) with trackingNumber and trackingEvents"
	if err := checkSize(u.Name(), payload); err != nil {
		return Result{}, err
	}
	trimmed := bytes.TrimSpace(payload)
	var raws []json.RawMessage
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return Result{}, malformed(u.Name(), want, err)
		}
	} else {
		var probe map[string]json.RawMessage
		if err := decodeObject(trimmed, &probe); err != nil {
			return Result{}, malformed(u.Name(), want, err)
		}
		if probe["trackingNumber"] == nil && probe["trackingEvents"] == nil && probe["error"] == nil {
			return Result{}, malformed(u.Name(), want, nil)
		}
		raws = []json.RawMessage{trimmed}
	}
	b := newBuilder(u.Name(), now)
	for i, raw := range raws {
		path := ""
		if len(raws) > 1 || trimmed[0] == '[' {
			path = at("", i)
		}
		var t uspsTracking
		if !b.decodeRecord(-1, path, raw, &t) {
			continue
		}
		u.tracking(b, path, raw, t)
	}
	return b.res, nil
}

func (u USPS) tracking(b *builder, path string, raw json.RawMessage, t uspsTracking) {
	events, err := records(t.TrackingEvents)
	if err != nil {
		b.problem(-1, joinPath(path, "trackingEvents"), schemas.ReasonInvalidField, t.TrackingEvents, "%v", err)
		return
	}
	if len(events) == 0 && t.Error != nil {
		b.problem(-1, joinPath(path, "error"), schemas.ReasonMissingField, raw, "USPS error %s: %s", t.Error.Code, t.Error.Message)
		return
	}
	origin := uspsCountry(t.OriginCountryCode, t.OriginCountry, t.OriginState, t.OriginZIP)
	dest := uspsCountry(t.DestinationCountryCode, t.DestinationCountry, t.DestinationState, t.DestinationZIP)
	service := serviceCode(t.MailClass.String())
	for k, rawEv := range events {
		idx := b.record()
		p := at(joinPath(path, "trackingEvents"), k)
		var e uspsEvent
		if !b.decodeRecord(idx, p, rawEv, &e) {
			continue
		}
		ts, field := e.GMTTimestamp.String(), p+".GMTTimestamp"
		if ts == "" {
			ts, field = e.EventTimestamp.String()+e.GMTOffset.String(), p+".eventTimestamp"
		}
		when, ok := b.when(idx, field, rawEv, ts, nil)
		if !ok {
			continue
		}
		code, desc := e.EventCode.String(), stripHTML(e.EventType.String())
		st, ok := uspsEventCodes[code]
		if !ok {
			st, ok = classifyText(desc)
		}
		if !ok {
			b.unknownStatus(idx, p+".eventCode", rawEv, code, desc)
			continue
		}
		b.emit(idx, p, rawEv, scan{
			tracking: t.TrackingNumber.String(), carrier: "usps", service: service, origin: origin, dest: dest,
			code: code, text: desc, status: sharpen(st, desc), at: when,
			loc: schemas.Location{
				Country:    uspsCountry("", e.EventCountry, e.EventState, ""),
				City:       e.EventCity.String(),
				PostalCode: e.EventZIP.String(),
			},
		})
	}
}

// uspsCountry reads a USPS country (a code or an upper-case name); with
// none, a US state or ZIP means the US.
func uspsCountry(code, name, state, zip text) string {
	if c := country(code.String()); c != "" {
		return c
	}
	if c := country(name.String()); c != "" {
		return c
	}
	if code.String() == "" && name.String() == "" && (state.String() != "" || zip.String() != "") {
		return "US"
	}
	return ""
}
