package carriers

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// LaPoste reads La Poste Suivi v2 responses (Colissimo, Chronopost and
// letters): one object, or an array of them, with shipment.event[] and the
// lane in shipment.contextData (originCountry, arrivalCountry). A
// returnCode other than 200 becomes a Problem with index -1.
type LaPoste struct{}

var _ Adapter = LaPoste{}

// Name returns "laposte".
func (LaPoste) Name() string { return "laposte" }

type laposteItem struct {
	ReturnCode    text `json:"returnCode"`
	ReturnMessage text `json:"returnMessage"`
	Shipment      *struct {
		IDShip      text            `json:"idShip"`
		Product     text            `json:"product"`
		Event       json.RawMessage `json:"event"`
		ContextData struct {
			OriginCountry  text `json:"originCountry"`
			ArrivalCountry text `json:"arrivalCountry"`
		} `json:"contextData"`
	} `json:"shipment"`
}

type laposteEvent struct {
	Code  text `json:"code"`
	Label text `json:"label"`
	Date  text `json:"date"`
}

// Parse implements Adapter.
func (l LaPoste) Parse(payload []byte, now time.Time) (Result, error) {
	const want = "want a La Poste Suivi v2 response: a JSON object (or array of them) with returnCode and shipment"
	if err := checkSize(l.Name(), payload); err != nil {
		return Result{}, err
	}
	items, array, err := objectOrArray(payload)
	if err != nil {
		return Result{}, malformed(l.Name(), want, err)
	}
	b := newBuilder(l.Name(), now)
	for i, raw := range items {
		path := "shipment"
		if array {
			path = at("", i) + ".shipment"
		}
		var it laposteItem
		if !b.decodeRecord(-1, path, raw, &it) {
			continue
		}
		if it.Shipment == nil {
			if it.ReturnCode == "" {
				if !array {
					return Result{}, malformed(l.Name(), want, nil)
				}
				b.problem(-1, path, schemas.ReasonMissingField, raw, "no shipment and no returnCode")
				continue
			}
			b.problem(-1, strings.TrimSuffix(path, "shipment")+"returnCode", schemas.ReasonMissingField, raw, "La Poste answered %s: %s", it.ReturnCode, it.ReturnMessage)
			continue
		}
		sh := it.Shipment
		events, err := records(sh.Event)
		if err != nil {
			b.problem(-1, path+".event", schemas.ReasonInvalidField, sh.Event, "%v", err)
			continue
		}
		origin, dest := country(sh.ContextData.OriginCountry.String()), country(sh.ContextData.ArrivalCountry.String())
		for k, rawEv := range events {
			idx := b.record()
			p := at(path+".event", k)
			var e laposteEvent
			if !b.decodeRecord(idx, p, rawEv, &e) {
				continue
			}
			when, ok := b.when(idx, p+".date", rawEv, e.Date.String(), nil)
			if !ok {
				continue
			}
			code, desc := e.Code.String(), e.Label.String()
			st, ok := laposteCodes[code]
			if !ok {
				st, ok = classifyText(desc)
			}
			if !ok {
				b.unknownStatus(idx, p+".code", rawEv, code, desc)
				continue
			}
			b.emit(idx, p, rawEv, scan{
				tracking: sh.IDShip.String(), carrier: "laposte", service: serviceCode(sh.Product.String()),
				origin: origin, dest: dest, code: code, text: desc, status: sharpen(st, desc), at: when,
			})
		}
	}
	return b.res, nil
}

// objectOrArray splits a payload that is one JSON object or an array of
// them; array says which it was.
func objectOrArray(payload []byte) (items []json.RawMessage, array bool, err error) {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, true, err
		}
		return items, true, nil
	}
	var probe map[string]json.RawMessage
	if err := decodeObject(trimmed, &probe); err != nil {
		return nil, false, err
	}
	return []json.RawMessage{trimmed}, false, nil
}
