package schemas

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// decodeStd is the reference decoder that the tests compare Decode with: it
// reads the JSON with encoding/json (syntax, unescaping, numbers, nesting
// limit) and walks its tokens by the rules at the top of decode.go, without
// any of decodeFast's machinery.
func decodeStd(b []byte, now time.Time) (Event, error) {
	if len(b) > MaxEventSize {
		return Event{}, invalid(ReasonOversize, "", "event is %d bytes, more than the limit of %d", len(b), MaxEventSize)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	// A syntax error anywhere in the first value wins: Decode scans the
	// whole value first.
	var value json.RawMessage
	if err := d.Decode(&value); err != nil {
		return Event{}, invalid(ReasonMalformed, "", "cannot parse JSON: %v", err)
	}
	w := stdWalker{d: json.NewDecoder(bytes.NewReader(value))}
	w.d.UseNumber()
	var r rawEvent
	switch t := w.token(); t {
	case nil:
		// A top-level null is the empty event.
	case json.Delim('{'):
		w.object(&r, false)
	default:
		return Event{}, invalid(ReasonMalformed, "", "cannot parse JSON: the event is not an object")
	}
	if w.saved != nil {
		return Event{}, w.saved
	}
	if _, err := d.Token(); err != io.EOF {
		return Event{}, invalid(ReasonMalformed, "", "cannot parse JSON: trailing data after the event object")
	}
	if r.loc != nil {
		r.loc.Country, r.loc.City, r.loc.PostalCode = r.s[fLocCountry], r.s[fLocCity], r.s[fLocPostalCode]
	}
	return r.event(now)
}

// stdWalker walks the tokens of a value known to be valid JSON.
type stdWalker struct {
	d     *json.Decoder
	seen  map[string]bool // the paths of the keys met
	saved *InvalidError   // the first error in document order
}

func (w *stdWalker) token() json.Token {
	t, err := w.d.Token()
	if err != nil {
		panic("decodeStd: " + err.Error()) // the value was checked
	}
	return t
}

func (w *stdWalker) save(err *InvalidError) {
	if w.saved == nil {
		w.saved = err
	}
}

// skip moves past the rest of a value whose first token was t.
func (w *stdWalker) skip(t json.Token) {
	if t != json.Delim('{') && t != json.Delim('[') {
		return
	}
	for depth := 1; depth > 0; {
		switch w.token() {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// object reads the members of the event object, or of its location, up to
// and with the closing brace.
func (w *stdWalker) object(r *rawEvent, location bool) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	for w.d.More() {
		key := w.token().(string)
		path := key
		if location {
			path = "location." + key
		}
		f := fUnknown
		for i := range numFields {
			if fields[i].Path == path && (location || !isLocationField(i)) {
				f = i
			}
		}
		t := w.token()
		if f == fUnknown {
			w.save(unknownField(location, key))
			w.skip(t)
			continue
		}
		if w.seen[path] {
			w.save(invalid(ReasonMalformed, path, "key %q appears twice", key))
		}
		w.seen[path] = true
		if t == nil {
			continue // absent
		}
		switch fields[f].Type {
		case "string":
			if s, ok := t.(string); ok {
				r.s[f] = s
				continue
			}
		case "object":
			if t == json.Delim('{') {
				r.loc = &Location{}
				w.object(r, true)
				continue
			}
		case "number":
			if n, ok := t.(json.Number); ok {
				x, err := strconv.ParseFloat(string(n), 64)
				if err != nil {
					w.save(invalid(ReasonMalformed, "", "cannot parse JSON: %s: number %s is out of range", path, n))
				} else if f == fLat {
					r.loc.Lat = &x
				} else {
					r.loc.Lon = &x
				}
				continue
			}
		}
		w.save(invalid(ReasonMalformed, "", "cannot parse JSON: %s has the wrong type", path))
		w.skip(t)
	}
	w.token() // }
}
