package carriers

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// DHL reads responses of DHL's Shipment Tracking - Unified API (GET
// /track/shipments), which covers Express, Parcel DE, eCommerce and freight:
// shipments[].events[]. The API's "not found" answer, an RFC 7807 problem
// object, becomes a Problem with index -1.
//
// Event timestamps usually lack an offset and are then taken as UTC. The
// status is read from the short status label when dhlLabels knows it, else
// from the five-value statusCode refined by the texts.
type DHL struct{}

var _ Adapter = DHL{}

// Name returns "dhl".
func (DHL) Name() string { return "dhl" }

type dhlResponse struct {
	Shipments json.RawMessage `json:"shipments"`
	Status    text            `json:"status"`
	Title     text            `json:"title"`
	Detail    text            `json:"detail"`
}

type dhlAddress struct {
	Address struct {
		CountryCode     text `json:"countryCode"`
		PostalCode      text `json:"postalCode"`
		AddressLocality text `json:"addressLocality"`
	} `json:"address"`
}

type dhlShipment struct {
	ID          text            `json:"id"`
	Service     text            `json:"service"`
	Origin      dhlAddress      `json:"origin"`
	Destination dhlAddress      `json:"destination"`
	Events      json.RawMessage `json:"events"`
}

type dhlEvent struct {
	Timestamp   text       `json:"timestamp"`
	Location    dhlAddress `json:"location"`
	StatusCode  text       `json:"statusCode"`
	Status      text       `json:"status"`
	Description text       `json:"description"`
	Remark      text       `json:"remark"`
}

// Parse implements Adapter.
func (d DHL) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want a DHL Shipment Tracking (Unified) response: a JSON object with shipments"
	if err := checkSize(d.Name(), payload); err != nil {
		return Result{}, err
	}
	var resp dhlResponse
	if err := decodeObject(payload, &resp); err != nil {
		return Result{}, malformed(d.Name(), want, err)
	}
	b := newBuilder(d.Name(), now)
	if len(resp.Shipments) == 0 {
		if resp.Title == "" && resp.Detail == "" {
			return Result{}, malformed(d.Name(), want, nil)
		}
		b.problem(-1, "shipments", schemas.ReasonMissingField, nil, "DHL answered %s %s: %s", resp.Status, resp.Title, resp.Detail)
		return b.res, nil
	}
	shipments, err := records(resp.Shipments)
	if err != nil {
		return Result{}, malformed(d.Name(), want, fmt.Errorf("shipments: %w", err))
	}
	for i, raw := range shipments {
		path := at("shipments", i)
		var sh dhlShipment
		if !b.decodeRecord(-1, path, raw, &sh) {
			continue
		}
		events, err := records(sh.Events)
		if err != nil {
			b.problem(-1, path+".events", schemas.ReasonInvalidField, sh.Events, "%v", err)
			continue
		}
		origin := country(sh.Origin.Address.CountryCode.String())
		dest := country(sh.Destination.Address.CountryCode.String())
		for k, rawEv := range events {
			idx := b.record()
			p := at(path+".events", k)
			var e dhlEvent
			if !b.decodeRecord(idx, p, rawEv, &e) {
				continue
			}
			when, ok := b.when(idx, p+".timestamp", rawEv, e.Timestamp.String(), nil)
			if !ok {
				continue
			}
			label, desc := e.Status.String(), e.Description.String()
			if !strings.EqualFold(label, desc) {
				desc = joinText(label, desc)
			}
			st, ok := dhlStatus(e.StatusCode.String(), label, desc)
			if !ok {
				b.unknownStatus(idx, p+".statusCode", rawEv, e.StatusCode.String(), desc)
				continue
			}
			b.emit(idx, p, rawEv, scan{
				tracking: sh.ID.String(), carrier: "dhl", service: serviceCode(sh.Service.String()),
				origin: origin, dest: dest, code: e.StatusCode.String(), text: desc, status: st, at: when,
				loc: schemas.Location{
					Country:    country(e.Location.Address.CountryCode.String()),
					City:       e.Location.Address.AddressLocality.String(),
					PostalCode: e.Location.Address.PostalCode.String(),
				},
			})
		}
	}
	return b.res, nil
}

// dhlStatus reads a DHL event's status: a known label wins over the
// statusCode, and either is refined by the text where it is coarse
// ("Shipment on hold" because customs holds it is customs_held); an unknown
// code falls back to the text.
func dhlStatus(code, label, desc string) (schemas.Status, bool) {
	if st, ok := dhlLabels[strings.ToUpper(strings.TrimSpace(label))]; ok {
		return sharpen(st, desc), true
	}
	if st, ok := dhlStatusCodes[code]; ok {
		return sharpen(st, desc), true
	}
	return classifyText(desc)
}
