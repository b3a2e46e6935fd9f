package carriers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// FedEx reads FedEx Track API responses (POST /track/v1/trackingnumbers):
// output.completeTrackResults[].trackResults[].scanEvents[].
//
// FedEx reuses tracking numbers: one number can carry several trackResults,
// one per shipment that used it (trackingNumberUniqueId tells them apart).
// Since shiplens keys a shipment by its tracking number, only the
// trackResult with the latest scan is read; each older one becomes a
// Problem (index -1) saying how many scans it held, rather than mixing two
// parcels' journeys into one shipment.
type FedEx struct{}

var _ Adapter = FedEx{}

// Name returns "fedex".
func (FedEx) Name() string { return "fedex" }

type fedexResponse struct {
	Output *struct {
		CompleteTrackResults json.RawMessage `json:"completeTrackResults"`
	} `json:"output"`
	Errors []fedexError `json:"errors"`
}

type fedexError struct {
	Code    text `json:"code"`
	Message text `json:"message"`
}

type fedexComplete struct {
	TrackingNumber text            `json:"trackingNumber"`
	TrackResults   json.RawMessage `json:"trackResults"`
}

type fedexAddress struct {
	City        text `json:"city"`
	PostalCode  text `json:"postalCode"`
	CountryCode text `json:"countryCode"`
}

type fedexParty struct {
	Address fedexAddress `json:"address"`
}

type fedexTrackResult struct {
	TrackingNumberInfo struct {
		TrackingNumber text `json:"trackingNumber"`
		UniqueID       text `json:"trackingNumberUniqueId"`
	} `json:"trackingNumberInfo"`
	ShipperInformation   fedexParty `json:"shipperInformation"`
	RecipientInformation fedexParty `json:"recipientInformation"`
	OriginLocation       struct {
		Contact fedexParty `json:"locationContactAndAddress"`
	} `json:"originLocation"`
	DestinationLocation struct {
		Contact fedexParty `json:"locationContactAndAddress"`
	} `json:"destinationLocation"`
	ServiceDetail struct {
		Type text `json:"type"`
	} `json:"serviceDetail"`
	ScanEvents json.RawMessage `json:"scanEvents"`
	Error      *fedexError     `json:"error"`
}

type fedexScan struct {
	Date                 text          `json:"date"`
	EventType            text          `json:"eventType"`
	EventDescription     text          `json:"eventDescription"`
	ExceptionCode        text          `json:"exceptionCode"`
	ExceptionDescription text          `json:"exceptionDescription"`
	DerivedStatusCode    text          `json:"derivedStatusCode"`
	ScanLocation         *fedexAddress `json:"scanLocation"`
}

// Parse implements Adapter.
func (f FedEx) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want a FedEx Track API response: a JSON object with output.completeTrackResults"
	if err := checkSize(f.Name(), payload); err != nil {
		return Result{}, err
	}
	var resp fedexResponse
	if err := decodeObject(payload, &resp); err != nil {
		return Result{}, malformed(f.Name(), want, err)
	}
	b := newBuilder(f.Name(), now)
	if resp.Output == nil || len(resp.Output.CompleteTrackResults) == 0 {
		if len(resp.Errors) == 0 {
			return Result{}, malformed(f.Name(), want, nil)
		}
		for i, e := range resp.Errors {
			b.problem(-1, at("errors", i), schemas.ReasonMissingField, nil, "FedEx error %s: %s", e.Code, e.Message)
		}
		return b.res, nil
	}
	completes, err := records(resp.Output.CompleteTrackResults)
	if err != nil {
		return Result{}, malformed(f.Name(), want, fmt.Errorf("output.completeTrackResults: %w", err))
	}
	for i, raw := range completes {
		path := at("output.completeTrackResults", i)
		var c fedexComplete
		if !b.decodeRecord(-1, path, raw, &c) {
			continue
		}
		f.complete(b, path, c)
	}
	return b.res, nil
}

// complete reads one tracking number's trackResults: the newest shipment's
// scans become events.
func (f FedEx) complete(b *builder, path string, c fedexComplete) {
	rawResults, err := records(c.TrackResults)
	if err != nil {
		b.problem(-1, path+".trackResults", schemas.ReasonInvalidField, c.TrackResults, "%v", err)
		return
	}
	type candidate struct {
		path   string
		tr     fedexTrackResult
		scans  []json.RawMessage
		latest time.Time
	}
	var cands []candidate
	newest := -1
	for j, raw := range rawResults {
		p := at(path+".trackResults", j)
		var tr fedexTrackResult
		if !b.decodeRecord(-1, p, raw, &tr) {
			continue
		}
		scans, err := records(tr.ScanEvents)
		if err != nil {
			b.problem(-1, p+".scanEvents", schemas.ReasonInvalidField, tr.ScanEvents, "%v", err)
			continue
		}
		if len(scans) == 0 {
			if tr.Error != nil {
				b.problem(-1, p, schemas.ReasonMissingField, raw, "FedEx error %s: %s", tr.Error.Code, tr.Error.Message)
			}
			continue
		}
		cd := candidate{path: p, tr: tr, scans: scans}
		for _, s := range scans {
			var sc fedexScan
			if json.Unmarshal(s, &sc) != nil {
				continue
			}
			if t, err := parseTime(sc.Date.String(), nil); err == nil && t.After(cd.latest) {
				cd.latest = t
			}
		}
		cands = append(cands, cd)
		if newest < 0 || cd.latest.After(cands[newest].latest) {
			newest = len(cands) - 1
		}
	}
	for k, cd := range cands {
		if k != newest {
			b.problem(-1, cd.path, schemas.ReasonInvalidField, nil,
				"tracking number %s was reused: this older shipment (%s) is superseded by %s, so its %d scans are not emitted",
				c.TrackingNumber, cd.tr.TrackingNumberInfo.UniqueID, cands[newest].path, len(cd.scans))
			b.next += len(cd.scans)
			continue
		}
		f.scans(b, cd.path, cd.tr, c.TrackingNumber.String(), cd.scans)
	}
}

func (f FedEx) scans(b *builder, path string, tr fedexTrackResult, tracking string, scans []json.RawMessage) {
	if n := tr.TrackingNumberInfo.TrackingNumber.String(); n != "" {
		tracking = n
	}
	origin := country(tr.ShipperInformation.Address.CountryCode.String())
	if origin == "" {
		origin = country(tr.OriginLocation.Contact.Address.CountryCode.String())
	}
	dest := country(tr.RecipientInformation.Address.CountryCode.String())
	if dest == "" {
		dest = country(tr.DestinationLocation.Contact.Address.CountryCode.String())
	}
	service := serviceCode(tr.ServiceDetail.Type.String())
	for k, raw := range scans {
		idx := b.record()
		p := at(path+".scanEvents", k)
		var sc fedexScan
		if !b.decodeRecord(idx, p, raw, &sc) {
			continue
		}
		when, ok := b.when(idx, p+".date", raw, sc.Date.String(), nil)
		if !ok {
			continue
		}
		code := sc.EventType.String()
		desc := sc.EventDescription.String()
		if x := sc.ExceptionDescription.String(); x != "" && x != desc {
			desc = joinText(desc, x)
		}
		st, ok := fedexEventTypes[code]
		if !ok {
			st, ok = fedexDerived[sc.DerivedStatusCode.String()]
		}
		if !ok {
			st, ok = classifyText(desc)
		}
		if !ok {
			b.unknownStatus(idx, p+".eventType", raw, code, desc)
			continue
		}
		st = sharpen(st, desc)
		if x := sc.ExceptionCode.String(); x != "" {
			code += "/" + x
		}
		s := scan{tracking: tracking, carrier: "fedex", service: service, origin: origin, dest: dest,
			code: code, text: desc, status: st, at: when}
		if l := sc.ScanLocation; l != nil {
			s.loc = schemas.Location{Country: country(l.CountryCode.String()), City: l.City.String(), PostalCode: l.PostalCode.String()}
		}
		b.emit(idx, p, raw, s)
	}
}

// joinText joins a carrier's short and long texts into one description.
func joinText(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}
