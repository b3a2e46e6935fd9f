package carriers

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// AusPost reads Australia Post Shipping and Tracking API responses (GET
// /shipping/v1/track): tracking_results[].trackable_items[], where an item
// is an article with events[] or a consignment whose items[] are articles.
// The tracking number is the article id.
//
// Australia Post events carry text only, no code, so their status comes
// from classifyText; text it does not recognise is ordinary transit
// ("Processed by air carrier"), which is what nearly all unrecognised
// Australia Post scans are. Locations are free text: "KEW VIC" (an
// Australian state suffix means AU), "CHICAGO (US)", "NZ",
// "US-60199, UNITED STATES".
type AusPost struct{}

var _ Adapter = AusPost{}

// Name returns "australiapost".
func (AusPost) Name() string { return "australiapost" }

type auspostResponse struct {
	TrackingResults json.RawMessage `json:"tracking_results"`
}

type auspostResult struct {
	TrackingID     text            `json:"tracking_id"`
	TrackableItems json.RawMessage `json:"trackable_items"`
	Errors         []struct {
		Code text `json:"code"`
		Name text `json:"name"`
	} `json:"errors"`
}

type auspostItem struct {
	ArticleID     text            `json:"article_id"`
	ConsignmentID text            `json:"consignment_id"`
	ProductType   text            `json:"product_type"`
	Events        json.RawMessage `json:"events"`
	Items         json.RawMessage `json:"items"`
}

type auspostEvent struct {
	Description text `json:"description"`
	Date        text `json:"date"`
	Location    text `json:"location"`
}

// Parse implements Adapter.
func (a AusPost) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want an Australia Post tracking response: a JSON object with tracking_results"
	if err := checkSize(a.Name(), payload); err != nil {
		return Result{}, err
	}
	var resp auspostResponse
	if err := decodeObject(payload, &resp); err != nil {
		return Result{}, malformed(a.Name(), want, err)
	}
	results, err := records(resp.TrackingResults)
	if err != nil || resp.TrackingResults == nil {
		return Result{}, malformed(a.Name(), want, err)
	}
	b := newBuilder(a.Name(), now)
	for i, raw := range results {
		path := at("tracking_results", i)
		var r auspostResult
		if !b.decodeRecord(-1, path, raw, &r) {
			continue
		}
		for k, e := range r.Errors {
			b.problem(-1, at(path+".errors", k), schemas.ReasonMissingField, raw, "Australia Post error %s for %q: %s", e.Code, r.TrackingID, e.Name)
		}
		a.items(b, path+".trackable_items", r.TrackableItems, r.TrackingID.String(), 0)
	}
	return b.res, nil
}

// items reads a list of trackable items; a consignment's items are read
// the same way, one level down.
func (a AusPost) items(b *builder, path string, raw json.RawMessage, tracking string, depth int) {
	items, err := records(raw)
	if err != nil {
		b.problem(-1, path, schemas.ReasonInvalidField, raw, "%v", err)
		return
	}
	for j, rawItem := range items {
		ip := at(path, j)
		var it auspostItem
		if !b.decodeRecord(-1, ip, rawItem, &it) {
			continue
		}
		id := it.ArticleID.String()
		if id == "" {
			id = it.ConsignmentID.String()
		}
		if id == "" {
			id = tracking
		}
		if len(it.Items) > 0 && depth == 0 {
			a.items(b, ip+".items", it.Items, id, depth+1)
		}
		events, err := records(it.Events)
		if err != nil {
			b.problem(-1, ip+".events", schemas.ReasonInvalidField, it.Events, "%v", err)
			continue
		}
		for k, rawEv := range events {
			idx := b.record()
			p := at(ip+".events", k)
			var e auspostEvent
			if !b.decodeRecord(idx, p, rawEv, &e) {
				continue
			}
			when, ok := b.when(idx, p+".date", rawEv, e.Date.String(), nil)
			if !ok {
				continue
			}
			desc := e.Description.String()
			st, ok := classifyText(desc)
			if !ok {
				st = inTransit
			}
			b.emit(idx, p, rawEv, scan{
				tracking: id, carrier: "australiapost", service: serviceCode(it.ProductType.String()),
				text: desc, status: st, at: when, loc: auspostLocation(e.Location.String()),
			})
		}
	}
}

// auStates are the state and territory suffixes of Australian locations.
var auStates = map[string]bool{"ACT": true, "NSW": true, "NT": true, "QLD": true, "SA": true, "TAS": true, "VIC": true, "WA": true}

// auspostLocation reads Australia Post's free-text scan location.
func auspostLocation(s string) schemas.Location {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || strings.EqualFold(s, "Transit Scan"): // a label, not a place
		return schemas.Location{}
	case country(s) != "":
		return schemas.Location{Country: country(s)}
	}
	if open := strings.LastIndexByte(s, '('); open > 0 && strings.HasSuffix(s, ")") {
		if c := country(s[open+1 : len(s)-1]); c != "" {
			return schemas.Location{Country: c, City: strings.TrimSpace(s[:open])}
		}
	}
	if comma := strings.LastIndexByte(s, ','); comma > 0 {
		if c := country(s[comma+1:]); c != "" {
			place := strings.TrimSpace(s[:comma])
			// "US-60199, UNITED STATES": a postal code behind the country code.
			if pre, zip, ok := strings.Cut(place, "-"); ok && country(pre) == c && strings.Trim(zip, "0123456789") == "" {
				return schemas.Location{Country: c, PostalCode: zip}
			}
			return schemas.Location{Country: c, City: place}
		}
	}
	if sp := strings.LastIndexByte(s, ' '); sp > 0 && auStates[s[sp+1:]] {
		return schemas.Location{Country: "AU", City: strings.TrimSpace(s[:sp])}
	}
	return schemas.Location{City: s}
}
