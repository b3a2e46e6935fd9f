package carriers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// UPS reads UPS Track API responses (GET /api/track/v1/details):
// trackResponse.shipment[].package[].activity[]. An activity's date and time
// (YYYYMMDD, HHMMSS) are local to the scan; its gmtDate, gmtTime and
// gmtOffset, when present, give the UTC time. A shipment that carries only
// warnings (tracking number not found) becomes a Problem with index -1.
type UPS struct{}

var _ Adapter = UPS{}

// Name returns "ups".
func (UPS) Name() string { return "ups" }

type upsResponse struct {
	TrackResponse *struct {
		Shipment json.RawMessage `json:"shipment"`
	} `json:"trackResponse"`
	Response *struct {
		Errors []upsMessage `json:"errors"`
	} `json:"response"`
}

type upsMessage struct {
	Code    text `json:"code"`
	Message text `json:"message"`
}

type upsShipment struct {
	InquiryNumber text            `json:"inquiryNumber"`
	Package       json.RawMessage `json:"package"`
	Warnings      []upsMessage    `json:"warnings"`
}

type upsAddress struct {
	City        text `json:"city"`
	PostalCode  text `json:"postalCode"`
	CountryCode text `json:"countryCode"`
	Country     text `json:"country"`
}

type upsPackage struct {
	TrackingNumber text            `json:"trackingNumber"`
	Activity       json.RawMessage `json:"activity"`
	Service        struct {
		Description text `json:"description"`
	} `json:"service"`
	PackageAddress []struct {
		Type    text       `json:"type"`
		Address upsAddress `json:"address"`
	} `json:"packageAddress"`
}

type upsActivity struct {
	Date      text `json:"date"`
	Time      text `json:"time"`
	GMTDate   text `json:"gmtDate"`
	GMTTime   text `json:"gmtTime"`
	GMTOffset text `json:"gmtOffset"`
	Location  struct {
		Address upsAddress `json:"address"`
	} `json:"location"`
	Status struct {
		Type        text `json:"type"`
		Code        text `json:"code"`
		Description text `json:"description"`
	} `json:"status"`
}

// Parse implements Adapter.
func (u UPS) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want a UPS Track API response: a JSON object with trackResponse.shipment"
	if err := checkSize(u.Name(), payload); err != nil {
		return Result{}, err
	}
	var resp upsResponse
	if err := decodeObject(payload, &resp); err != nil {
		return Result{}, malformed(u.Name(), want, err)
	}
	b := newBuilder(u.Name(), now)
	if resp.TrackResponse == nil {
		if resp.Response == nil || len(resp.Response.Errors) == 0 {
			return Result{}, malformed(u.Name(), want, nil)
		}
		for i, e := range resp.Response.Errors {
			b.problem(-1, at("response.errors", i), schemas.ReasonMissingField, nil, "UPS error %s: %s", e.Code, e.Message)
		}
		return b.res, nil
	}
	shipments, err := records(resp.TrackResponse.Shipment)
	if err != nil {
		return Result{}, malformed(u.Name(), want, fmt.Errorf("trackResponse.shipment: %w", err))
	}
	for i, raw := range shipments {
		path := at("trackResponse.shipment", i)
		var sh upsShipment
		if !b.decodeRecord(-1, path, raw, &sh) {
			continue
		}
		packages, err := records(sh.Package)
		if err != nil {
			b.problem(-1, path+".package", schemas.ReasonInvalidField, sh.Package, "%v", err)
			continue
		}
		if len(packages) == 0 {
			for k, w := range sh.Warnings {
				b.problem(-1, at(path+".warnings", k), schemas.ReasonMissingField, raw,
					"no package%s: UPS warning %s: %s", forNumber(sh.InquiryNumber.String()), w.Code, w.Message)
			}
		}
		for j, rawPkg := range packages {
			u.pkg(b, at(path+".package", j), rawPkg, sh.InquiryNumber.String())
		}
	}
	return b.res, nil
}

func (u UPS) pkg(b *builder, path string, raw json.RawMessage, inquiry string) {
	var p upsPackage
	if !b.decodeRecord(-1, path, raw, &p) {
		return
	}
	tracking := p.TrackingNumber.String()
	if tracking == "" {
		tracking = inquiry
	}
	var origin, dest string
	for _, a := range p.PackageAddress {
		c := country(a.Address.CountryCode.String())
		switch strings.ToUpper(a.Type.String()) {
		case "ORIGIN", "SHIPPER":
			origin = c
		case "DESTINATION", "DELIVERY", "SHIP_TO":
			dest = c
		}
	}
	acts, err := records(p.Activity)
	if err != nil {
		b.problem(-1, path+".activity", schemas.ReasonInvalidField, p.Activity, "%v", err)
		return
	}
	service := serviceCode(p.Service.Description.String())
	for k, rawAct := range acts {
		idx := b.record()
		ap := at(path+".activity", k)
		var a upsActivity
		if !b.decodeRecord(idx, ap, rawAct, &a) {
			continue
		}
		when, ok := b.when(idx, ap+".date", rawAct, upsTime(a), nil)
		if !ok {
			continue
		}
		typ, code, desc := a.Status.Type.String(), a.Status.Code.String(), a.Status.Description.String()
		st, ok := upsTypes[typ]
		if !ok {
			st, ok = classifyText(desc)
		}
		if !ok {
			b.unknownStatus(idx, ap+".status.type", rawAct, typ, desc)
			continue
		}
		addr := a.Location.Address
		c := country(addr.CountryCode.String())
		if c == "" {
			c = country(addr.Country.String())
		}
		b.emit(idx, ap, rawAct, scan{
			tracking: tracking, carrier: "ups", service: service, origin: origin, dest: dest,
			code: joinCode(typ, code), text: desc, status: sharpen(st, desc), at: when,
			loc: schemas.Location{Country: c, City: addr.City.String(), PostalCode: addr.PostalCode.String()},
		})
	}
}

// upsTime returns an activity's time in a form parseTime reads: the UTC
// form when UPS gives one, else the local date and time without an offset.
func upsTime(a upsActivity) string {
	if d, t := a.GMTDate.String(), a.GMTTime.String(); d != "" && t != "" {
		// gmtDate and gmtTime are already UTC; gmtOffset is the scan site's.
		if len(d) == 8 {
			d = d[:4] + "-" + d[4:6] + "-" + d[6:]
		}
		if len(t) == 6 {
			t = t[:2] + ":" + t[2:4] + ":" + t[4:]
		}
		return d + "T" + t + "Z"
	}
	d := strings.ReplaceAll(a.Date.String(), "-", "")
	t := strings.ReplaceAll(a.Time.String(), ":", "")
	if t == "" {
		return d
	}
	return d + " " + t
}

// joinCode joins a coarse and a fine carrier code, "X/SR".
func joinCode(coarse, fine string) string {
	switch {
	case coarse == "":
		return fine
	case fine == "":
		return coarse
	}
	return coarse + "/" + fine
}

// forNumber returns ` for "N"`, or nothing when the number is unknown.
func forNumber(n string) string {
	if n == "" {
		return ""
	}
	return " for " + strconv.Quote(n)
}
