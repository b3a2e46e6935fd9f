package carriers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Track17 reads 17TRACK tracking API v2 webhooks (event TRACKING_UPDATED,
// data.track_info) and, for polling, gettrackinfo responses
// (data.accepted[]; data.rejected[] become Problems). Events come from every
// provider in track_info.tracking.providers[] (the origin post and the
// last-mile carrier of a cross-border parcel) and all carry the shipment's
// carrier, data.carrier: a 17TRACK numeric key mapped by track17Carriers,
// else the provider's name mapped by carrierAliases.
//
// Status: an event's sub_status through track17SubStatus, else its stage
// through track17Stages, else its text; an event with none of these is an
// ordinary transit scan, since 17TRACK lists it without a milestone.
// TRACKING_STOPPED and other notices without track_info produce nothing.
type Track17 struct{}

var _ Adapter = Track17{}

// Name returns "17track".
func (Track17) Name() string { return "17track" }

type track17Envelope struct {
	Event text            `json:"event"`
	Data  json.RawMessage `json:"data"`
}

type track17Data struct {
	Number    text            `json:"number"`
	Carrier   text            `json:"carrier"`
	TrackInfo json.RawMessage `json:"track_info"`
	Accepted  json.RawMessage `json:"accepted"`
	Rejected  []struct {
		Number text `json:"number"`
		Error  struct {
			Code    text `json:"code"`
			Message text `json:"message"`
		} `json:"error"`
	} `json:"rejected"`
}

type track17Address struct {
	Country     text `json:"country"`
	City        text `json:"city"`
	PostalCode  text `json:"postal_code"`
	Coordinates struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
	} `json:"coordinates"`
}

type track17Info struct {
	ShippingInfo struct {
		Shipper   track17Address `json:"shipper_address"`
		Recipient track17Address `json:"recipient_address"`
	} `json:"shipping_info"`
	MiscInfo struct {
		ServiceType text `json:"service_type"`
	} `json:"misc_info"`
	Tracking struct {
		Providers json.RawMessage `json:"providers"`
	} `json:"tracking"`
}

type track17Provider struct {
	Provider struct {
		Key  text `json:"key"`
		Name text `json:"name"`
	} `json:"provider"`
	ServiceType text            `json:"service_type"`
	Events      json.RawMessage `json:"events"`
}

type track17Event struct {
	TimeISO     text `json:"time_iso"`
	TimeUTC     text `json:"time_utc"`
	Description text `json:"description"`
	Location    text `json:"location"`
	Stage       text `json:"stage"`
	SubStatus   text `json:"sub_status"`
	TimeRaw     struct {
		Date     text `json:"date"`
		Time     text `json:"time"`
		Timezone text `json:"timezone"`
	} `json:"time_raw"`
	Address track17Address `json:"address"`
}

// Parse implements Adapter.
func (tr Track17) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want a 17TRACK v2 webhook body with data.number and data.track_info (or a gettrackinfo response with data.accepted)"
	if err := checkSize(tr.Name(), payload); err != nil {
		return Result{}, err
	}
	var env track17Envelope
	if err := decodeObject(payload, &env); err != nil {
		return Result{}, malformed(tr.Name(), want, err)
	}
	if !isObject(env.Data) {
		return Result{}, malformed(tr.Name(), want, nil)
	}
	var data track17Data
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return Result{}, malformed(tr.Name(), want, fmt.Errorf("data: %w", err))
	}
	b := newBuilder(tr.Name(), now)
	switch {
	case len(data.Accepted) > 0 || len(data.Rejected) > 0:
		items, err := records(data.Accepted)
		if err != nil {
			return Result{}, malformed(tr.Name(), want, fmt.Errorf("data.accepted: %w", err))
		}
		for i, raw := range items {
			p := at("data.accepted", i)
			var d track17Data
			if b.decodeRecord(-1, p, raw, &d) {
				tr.item(b, p, raw, d)
			}
		}
		for i, r := range data.Rejected {
			b.problem(-1, at("data.rejected", i), schemas.ReasonMissingField, nil,
				"17TRACK rejected %q: %s %s", r.Number, r.Error.Code, r.Error.Message)
		}
	case data.Number != "":
		tr.item(b, "data", env.Data, data)
	default:
		return Result{}, malformed(tr.Name(), want, nil)
	}
	return b.res, nil
}

// item reads one tracked number.
func (tr Track17) item(b *builder, path string, raw json.RawMessage, d track17Data) {
	if len(d.TrackInfo) == 0 || string(d.TrackInfo) == "null" {
		return // a notice without tracking data, such as TRACKING_STOPPED
	}
	var info track17Info
	if !b.decodeRecord(-1, path+".track_info", d.TrackInfo, &info) {
		return
	}
	providers, err := records(info.Tracking.Providers)
	if err != nil {
		b.problem(-1, path+".track_info.tracking.providers", schemas.ReasonInvalidField, info.Tracking.Providers, "%v", err)
		return
	}
	var provs []track17Provider
	var paths []string
	for i, rawP := range providers {
		p := at(path+".track_info.tracking.providers", i)
		var pv track17Provider
		if b.decodeRecord(-1, p, rawP, &pv) {
			provs = append(provs, pv)
			paths = append(paths, p)
		}
	}
	carrier := track17Carrier(d.Carrier.String(), provs)
	origin := country(info.ShippingInfo.Shipper.Country.String())
	dest := country(info.ShippingInfo.Recipient.Country.String())
	service := info.MiscInfo.ServiceType.String()
	for i, pv := range provs {
		events, err := records(pv.Events)
		if err != nil {
			b.problem(-1, paths[i]+".events", schemas.ReasonInvalidField, pv.Events, "%v", err)
			continue
		}
		svc := service
		if svc == "" {
			svc = pv.ServiceType.String()
		}
		if carrier == "" && len(events) > 0 {
			b.problem(-1, path+".carrier", schemas.ReasonMissingField, raw, "no carrier key or provider name for %d events", len(events))
			b.next += len(events)
			continue
		}
		for k, rawEv := range events {
			idx := b.record()
			p := at(paths[i]+".events", k)
			var e track17Event
			if !b.decodeRecord(idx, p, rawEv, &e) {
				continue
			}
			ts, field := e.TimeUTC.String(), p+".time_utc"
			if ts == "" {
				ts, field = e.TimeISO.String(), p+".time_iso"
			}
			if ts == "" && e.TimeRaw.Date != "" {
				ts, field = strings.TrimSpace(e.TimeRaw.Date.String()+" "+e.TimeRaw.Time.String())+e.TimeRaw.Timezone.String(), p+".time_raw"
			}
			when, ok := b.when(idx, field, rawEv, ts, nil)
			if !ok {
				continue
			}
			code, desc := e.SubStatus.String(), e.Description.String()
			st, ok := track17SubStatus[code]
			if !ok {
				st, ok = track17Stages[e.Stage.String()]
			}
			if !ok {
				st, ok = classifyText(desc)
			}
			if !ok {
				st = inTransit
			}
			st = exportCustoms(st, desc)
			if code == "" {
				code = e.Stage.String()
			}
			city := e.Address.City.String()
			if city == "" {
				city = e.Location.String()
			}
			c := e.Address.Coordinates
			var lat, lon *float64
			if c.Latitude != nil && c.Longitude != nil {
				lat, lon = coords(*c.Latitude, *c.Longitude, true)
			}
			b.emit(idx, p, rawEv, scan{
				tracking: d.Number.String(), carrier: carrier, service: serviceCode(svc), origin: origin, dest: dest,
				code: code, text: desc, status: st, at: when,
				loc: schemas.Location{Country: country(e.Address.Country.String()), City: city,
					PostalCode: e.Address.PostalCode.String(), Lat: lat, Lon: lon},
			})
		}
	}
}

// track17Carrier maps data.carrier to a carrier code: a known numeric key,
// else the name of the provider with that key (or of the first provider),
// else "17track-<key>" so that the shipment still has a stable carrier.
func track17Carrier(key string, provs []track17Provider) string {
	n, _ := strconv.ParseInt(key, 10, 64)
	if c, ok := track17Carriers[n]; ok {
		return c
	}
	for _, p := range provs {
		if p.Provider.Key.String() == key {
			if c := carrierCode(p.Provider.Name.String()); c != "" {
				return c
			}
		}
	}
	for _, p := range provs {
		if c := carrierCode(p.Provider.Name.String()); c != "" {
			return c
		}
	}
	if n > 0 {
		return "17track-" + strconv.FormatInt(n, 10)
	}
	return ""
}
