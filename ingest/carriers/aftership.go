package carriers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// AfterShip reads AfterShip tracking webhooks (a body whose msg is the
// tracking object) and, for polling, GET /trackings responses (data.tracking
// or data.trackings[]). Each checkpoint becomes an event: its subtag is the
// carrier_status and decides the status through aftershipSubtags, falling
// back to its tag.
//
// The shipment's courier slug (not a checkpoint's, which names the
// last-mile partner) gives the carrier code. Countries come as ISO alpha-3
// (origin_country_iso3 / destination_country_iso3, or the *_region fields of
// newer API versions) and are converted to alpha-2.
// order_promised_delivery_date (a date) becomes promised_at at the end of
// that day, UTC.
type AfterShip struct{}

var _ Adapter = AfterShip{}

// Name returns "aftership".
func (AfterShip) Name() string { return "aftership" }

type aftershipEnvelope struct {
	Msg  json.RawMessage `json:"msg"`
	Data *struct {
		Tracking  json.RawMessage `json:"tracking"`
		Trackings json.RawMessage `json:"trackings"`
	} `json:"data"`
}

type aftershipTracking struct {
	TrackingNumber     text            `json:"tracking_number"`
	Slug               text            `json:"slug"`
	OriginISO3         text            `json:"origin_country_iso3"`
	OriginRegion       text            `json:"origin_country_region"`
	DestinationISO3    text            `json:"destination_country_iso3"`
	DestinationRegion  text            `json:"destination_country_region"`
	ShipmentType       text            `json:"shipment_type"`
	PromisedDate       text            `json:"order_promised_delivery_date"`
	Checkpoints        json.RawMessage `json:"checkpoints"`
	CourierDestination text            `json:"courier_destination_country_iso3"`
}

type aftershipCheckpoint struct {
	CheckpointTime text            `json:"checkpoint_time"`
	Tag            text            `json:"tag"`
	Subtag         text            `json:"subtag"`
	Message        text            `json:"message"`
	Location       text            `json:"location"`
	City           text            `json:"city"`
	Zip            text            `json:"zip"`
	CountryISO3    text            `json:"country_iso3"`
	CountryRegion  text            `json:"country_region"`
	Coordinates    json.RawMessage `json:"coordinates"`
}

// Parse implements Adapter.
func (a AfterShip) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want an AfterShip webhook body with a msg tracking object (or a GET /trackings response with data.tracking)"
	if err := checkSize(a.Name(), payload); err != nil {
		return Result{}, err
	}
	var env aftershipEnvelope
	if err := decodeObject(payload, &env); err != nil {
		return Result{}, malformed(a.Name(), want, err)
	}
	type tracking struct {
		path string
		raw  json.RawMessage
	}
	var list []tracking
	switch {
	case isObject(env.Msg):
		list = append(list, tracking{"msg", env.Msg})
	case env.Data != nil && isObject(env.Data.Tracking):
		list = append(list, tracking{"data.tracking", env.Data.Tracking})
	case env.Data != nil && len(env.Data.Trackings) > 0:
		raws, err := records(env.Data.Trackings)
		if err != nil {
			return Result{}, malformed(a.Name(), want, fmt.Errorf("data.trackings: %w", err))
		}
		for i, r := range raws {
			list = append(list, tracking{at("data.trackings", i), r})
		}
	default:
		return Result{}, malformed(a.Name(), want, nil)
	}
	b := newBuilder(a.Name(), now)
	for _, t := range list {
		var tr aftershipTracking
		if !b.decodeRecord(-1, t.path, t.raw, &tr) {
			continue
		}
		a.tracking(b, t.path, t.raw, tr)
	}
	return b.res, nil
}

func (a AfterShip) tracking(b *builder, path string, raw json.RawMessage, t aftershipTracking) {
	checkpoints, err := records(t.Checkpoints)
	if err != nil {
		b.problem(-1, path+".checkpoints", schemas.ReasonInvalidField, t.Checkpoints, "%v", err)
		return
	}
	carrier := carrierCode(t.Slug.String())
	if carrier == "" && len(checkpoints) > 0 {
		b.problem(-1, path+".slug", schemas.ReasonMissingField, raw, "no courier slug, so no carrier for %d checkpoints", len(checkpoints))
		b.next += len(checkpoints)
		return
	}
	origin := alpha3(t.OriginISO3.String())
	if origin == "" {
		origin = alpha3(t.OriginRegion.String())
	}
	dest := alpha3(t.DestinationISO3.String())
	if dest == "" {
		dest = alpha3(t.DestinationRegion.String())
	}
	if dest == "" {
		dest = alpha3(t.CourierDestination.String())
	}
	var promised time.Time
	if p := t.PromisedDate.String(); p != "" {
		if d, err := parseTime(p, nil); err == nil {
			if len(p) <= len("2006-01-02") {
				d = d.Add(24*time.Hour - time.Second) // a promised day ends at its last second
			}
			promised = d
		}
	}
	service := serviceCode(t.ShipmentType.String())
	for k, rawCp := range checkpoints {
		idx := b.record()
		p := at(path+".checkpoints", k)
		var cp aftershipCheckpoint
		if !b.decodeRecord(idx, p, rawCp, &cp) {
			continue
		}
		when, ok := b.when(idx, p+".checkpoint_time", rawCp, cp.CheckpointTime.String(), nil)
		if !ok {
			continue
		}
		code := cp.Subtag.String()
		st, ok := aftershipSubtags[code]
		if !ok {
			st, ok = aftershipTags[cp.Tag.String()]
			if code == "" {
				code = cp.Tag.String()
			}
		}
		if !ok {
			b.unknownStatus(idx, p+".subtag", rawCp, code, cp.Message.String())
			continue
		}
		c := alpha3(cp.CountryISO3.String())
		if c == "" {
			c = alpha3(cp.CountryRegion.String())
		}
		city := cp.City.String()
		if city == "" {
			city = cp.Location.String()
		}
		lat, lon := aftershipCoords(cp.Coordinates)
		b.emit(idx, p, rawCp, scan{
			tracking: t.TrackingNumber.String(), carrier: carrier, service: service, origin: origin, dest: dest,
			code: code, text: cp.Message.String(), status: exportCustoms(st, cp.Message.String()), at: when, promised: promised,
			loc: schemas.Location{Country: c, City: city, PostalCode: cp.Zip.String(), Lat: lat, Lon: lon},
		})
	}
}

// aftershipCoords reads checkpoint coordinates, [lat, lon] in older API
// versions and {latitude, longitude} in newer ones.
func aftershipCoords(raw json.RawMessage) (*float64, *float64) {
	var pair []float64
	if json.Unmarshal(raw, &pair) == nil && len(pair) == 2 {
		return coords(pair[0], pair[1], true)
	}
	var obj struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Latitude != nil && obj.Longitude != nil {
		return coords(*obj.Latitude, *obj.Longitude, true)
	}
	return nil, nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
