package carriers

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Seko reads SEKO Logistics (OmniParcel) tracking responses: an array of
// consignments, each with Events[]. The OmniCode, normalised across SEKO's
// last-mile partners, decides the status (sekoOmniCodes); the partner's own
// Code goes with it into carrier_status. EventDT has no offset and is taken
// as UTC. Locations read "Essen, DE" or "NL": a trailing country code is
// the country.
type Seko struct{}

var _ Adapter = Seko{}

// Name returns "seko".
func (Seko) Name() string { return "seko" }

type sekoConsignment struct {
	ConsignmentNo text            `json:"ConsignmentNo"`
	Reference1    text            `json:"Reference1"`
	Events        json.RawMessage `json:"Events"`
}

type sekoEvent struct {
	EventDT     text `json:"EventDT"`
	Code        text `json:"Code"`
	OmniCode    text `json:"OmniCode"`
	Description text `json:"Description"`
	Location    text `json:"Location"`
}

// Parse implements Adapter.
func (s Seko) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want a SEKO tracking response: a JSON array (or object) of consignments with ConsignmentNo and Events"
	if err := checkSize(s.Name(), payload); err != nil {
		return Result{}, err
	}
	items, array, err := objectOrArray(payload)
	if err != nil {
		return Result{}, malformed(s.Name(), want, err)
	}
	b := newBuilder(s.Name(), now)
	for i, raw := range items {
		path := ""
		if array {
			path = at("", i)
		}
		var c sekoConsignment
		if !b.decodeRecord(-1, path, raw, &c) {
			continue
		}
		if !array && c.ConsignmentNo == "" && c.Events == nil {
			return Result{}, malformed(s.Name(), want, nil)
		}
		events, err := records(c.Events)
		if err != nil {
			b.problem(-1, joinPath(path, "Events"), schemas.ReasonInvalidField, c.Events, "%v", err)
			continue
		}
		for k, rawEv := range events {
			idx := b.record()
			p := at(joinPath(path, "Events"), k)
			var e sekoEvent
			if !b.decodeRecord(idx, p, rawEv, &e) {
				continue
			}
			when, ok := b.when(idx, p+".EventDT", rawEv, e.EventDT.String(), nil)
			if !ok {
				continue
			}
			omni, desc := e.OmniCode.String(), e.Description.String()
			st, ok := sekoOmniCodes[omni]
			if !ok {
				st, ok = classifyText(desc)
			}
			if !ok {
				b.unknownStatus(idx, p+".OmniCode", rawEv, omni, desc)
				continue
			}
			b.emit(idx, p, rawEv, scan{
				tracking: c.ConsignmentNo.String(), carrier: "seko", code: joinCode(omni, e.Code.String()),
				text: desc, status: sharpen(st, desc), at: when, loc: sekoLocation(e.Location.String()),
			})
		}
	}
	return b.res, nil
}

// sekoLocation reads "LONDON,EGHAM,GB", "Essen, DE" or "NL".
func sekoLocation(s string) schemas.Location {
	s = strings.TrimSpace(s)
	if c := country(s); c != "" && len(s) <= 3 {
		return schemas.Location{Country: c}
	}
	if comma := strings.LastIndexByte(s, ','); comma > 0 {
		if tail := strings.TrimSpace(s[comma+1:]); len(tail) == 2 && country(tail) != "" {
			return schemas.Location{Country: country(tail), City: strings.TrimSpace(s[:comma])}
		}
	}
	return schemas.Location{City: s}
}
