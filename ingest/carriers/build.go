package carriers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shiplens/shiplens/schemas"
)

// scan is one carrier scan on its way to becoming an event: what a source
// read, before cleaning, identity and validation.
type scan struct {
	tracking, carrier, service string
	origin, dest               string // alpha-2 or ""
	code                       string // raw carrier code: carrier_status
	text                       string // raw carrier text: description
	status                     schemas.Status
	at                         time.Time
	loc                        schemas.Location
	promised                   time.Time
	merchant                   string
	id                         string // set only by sources whose records carry their own id
}

// builder collects the events and problems of one Parse call.
type builder struct {
	source string
	now    time.Time
	res    Result
	seen   map[string]bool // event ids emitted so far
	next   int             // index of the next scan record
}

func newBuilder(source string, now time.Time) *builder {
	return &builder{source: source, now: now, seen: map[string]bool{}}
}

// record numbers the next scan record of the payload.
func (b *builder) record() int {
	i := b.next
	b.next++
	return i
}

// problem records a record that did not become an event.
func (b *builder) problem(index int, field string, reason schemas.Reason, raw []byte, format string, args ...any) {
	p := Problem{Index: index, Field: field, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	if len(raw) > 0 {
		p.Raw = bytes.Clone(raw)
	}
	b.res.Problems = append(b.res.Problems, p)
}

// emit cleans s, gives it its id and validates it: a valid event joins the
// result unless the payload already produced the same id; an invalid one
// becomes a problem. path locates the record in the payload.
func (b *builder) emit(index int, path string, raw []byte, s scan) {
	e := schemas.Event{
		TrackingNumber:     strings.TrimSpace(s.tracking),
		Carrier:            s.carrier,
		Service:            s.service,
		OriginCountry:      s.origin,
		DestinationCountry: s.dest,
		Status:             s.status,
		CarrierStatus:      cleanText(s.code, 128),
		Description:        cleanText(s.text, 1024),
		OccurredAt:         s.at.UTC(),
		Merchant:           cleanText(s.merchant, 64),
	}
	if !s.promised.IsZero() {
		e.PromisedAt = s.promised.UTC()
	}
	loc := schemas.Location{
		Country:    s.loc.Country,
		City:       cleanText(s.loc.City, 128),
		PostalCode: cleanText(s.loc.PostalCode, 32),
		Lat:        s.loc.Lat,
		Lon:        s.loc.Lon,
	}
	if loc != (schemas.Location{}) {
		e.Location = &loc
	}
	e.EventID = s.id
	if e.EventID == "" {
		e.EventID = eventID(b.source, &e)
	}
	if err := e.Validate(b.now); err != nil {
		var ie *schemas.InvalidError
		if !errors.As(err, &ie) {
			ie = &schemas.InvalidError{Reason: schemas.ReasonMalformed, Detail: err.Error()}
		}
		field := path
		if ie.Field != "" {
			field = joinPath(path, ie.Field)
		}
		b.problem(index, field, ie.Reason, raw, "%s", ie.Detail)
		return
	}
	if b.seen[e.EventID] {
		return
	}
	b.seen[e.EventID] = true
	b.res.Events = append(b.res.Events, e)
}

// eventID is the deterministic id of e: the first 32 hex digits of SHA-256
// over the source and the fields that tell one scan from another. The parts
// are NUL-separated; cleaned text never holds a NUL, so no two different
// scans hash the same input.
func eventID(source string, e *schemas.Event) string {
	h := sha256.New()
	var loc schemas.Location
	if e.Location != nil {
		loc = *e.Location
	}
	for _, part := range []string{
		source, e.Carrier, e.TrackingNumber, e.OccurredAt.UTC().Format(time.RFC3339Nano),
		e.CarrierStatus, e.Description, loc.Country, loc.City, loc.PostalCode,
	} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// cleanText makes carrier text fit an event field: valid UTF-8, control
// characters and runs of white space turned into one space, trimmed, and cut
// to max runes.
func cleanText(s string, max int) string {
	if s == "" {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var sb strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = sb.Len() > 0
			continue
		}
		if space {
			if n+1 >= max {
				break
			}
			sb.WriteByte(' ')
			n++
			space = false
		}
		if n >= max {
			break
		}
		sb.WriteRune(r)
		n++
	}
	return sb.String()
}

// carrierCode maps a carrier name or aggregator slug to a shiplens carrier
// code: through carrierAliases when known, else the sanitised slug (lower
// case, [a-z0-9_-], at most 32 characters, starting with a letter or digit).
func carrierCode(name string) string {
	if c, ok := carrierAliases[squash(name)]; ok {
		return c
	}
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			if dash && sb.Len() > 0 {
				sb.WriteByte('-')
			}
			dash = false
			sb.WriteRune(r)
		default:
			dash = true
		}
		if sb.Len() >= 32 {
			break
		}
	}
	s := strings.TrimLeft(sb.String(), "_")
	if len(s) > 32 {
		s = strings.TrimRight(s[:32], "-")
	}
	return s
}

// squash keeps the lower-cased letters and digits of s: the lookup key of
// carrierAliases, so that "China Post", "china-post" and "ChinaPost" meet.
func squash(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// serviceCode turns a carrier's product name into the event's service:
// HTML and the carrier's own brand dropped, lower case, words joined by "_",
// at most 32 characters ("USPS Ground Advantage<SUP>&#153;</SUP>" becomes
// "ground_advantage", FedEx "PRIORITY_OVERNIGHT" "priority_overnight").
func serviceCode(s string) string {
	s = stripHTML(s)
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		words = append(words, w)
	}
	for len(words) > 1 && serviceBrands[words[0]] {
		words = words[1:]
	}
	out := strings.Join(words, "_")
	if len(out) > 32 {
		// Cut at a word boundary: "first_class_package_international_service"
		// becomes "first_class_package".
		if i := strings.LastIndexByte(out[:33], '_'); i > 0 {
			out = out[:i]
		} else {
			out = out[:32]
		}
	}
	return out
}

var serviceBrands = map[string]bool{"usps": true, "ups": true, "fedex": true, "dhl": true}

// stripHTML drops tags and character entities from carrier text ("Priority
// Mail<SUP>&#174;</SUP>"). A "<" without a ">" or an "&" without a ";"
// within 10 bytes is kept as text; the scan is linear.
func stripHTML(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var sb strings.Builder
	inTag := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inTag:
			inTag = c != '>'
			continue
		case c == '<' && strings.IndexByte(s[i:min(len(s), i+64)], '>') > 0:
			inTag = true
			continue
		case c == '&':
			if j := strings.IndexByte(s[i:min(len(s), i+10)], ';'); j > 1 {
				i += j
				continue
			}
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// joinPath appends a field name or index to a payload path.
func joinPath(path, field string) string {
	switch {
	case path == "":
		return field
	case field == "" || strings.HasPrefix(field, "["):
		return path + field
	}
	return path + "." + field
}

// at returns path[i].
func at(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// text is a JSON value read as text: a string, or a number's literal; null
// and other types read as "". Carriers disagree on whether ids and codes are
// strings or numbers (DHL's shipment id is both).
type text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*t = text(b)
	default:
		*t = ""
	}
	return nil
}

// String returns the text, trimmed.
func (t text) String() string { return strings.TrimSpace(string(t)) }

// decodeObject reads b as a JSON object into v, or says why it is not one.
func decodeObject(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return errors.New("empty payload")
	}
	if b[0] != '{' {
		return fmt.Errorf("got %s", jsonKind(b))
	}
	return json.Unmarshal(b, v)
}

// jsonKind names the kind of JSON value b starts with, for error messages.
func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "JSON null"
	}
	if b[0] == '-' || b[0] >= '0' && b[0] <= '9' {
		return "a JSON number"
	}
	r, _ := utf8.DecodeRune(b)
	return fmt.Sprintf("text starting with %q, not JSON", r)
}

// records splits a JSON array of records into raw records; null or absent
// is no records.
func records(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("want an array, got %s", jsonKind(raw))
	}
	return out, nil
}

// decodeRecord reads one raw record into v; a record of the wrong type
// becomes a problem of the builder, and the caller skips it.
func (b *builder) decodeRecord(index int, path string, raw json.RawMessage, v any) bool {
	if err := json.Unmarshal(raw, v); err != nil {
		field := path
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			field = joinPath(path, te.Field)
		}
		b.problem(index, field, schemas.ReasonInvalidField, raw, "cannot read record: %v", err)
		return false
	}
	return true
}

// when parses a scan's time, or records a bad_timestamp problem naming the
// field; ok is false when the scan must be skipped.
func (b *builder) when(index int, field string, raw []byte, s string, zone *time.Location) (time.Time, bool) {
	if strings.TrimSpace(s) == "" {
		b.problem(index, field, schemas.ReasonMissingField, raw, "no time")
		return time.Time{}, false
	}
	t, err := parseTime(s, zone)
	if err != nil {
		b.problem(index, field, schemas.ReasonBadTimestamp, raw, "%v", err)
		return time.Time{}, false
	}
	return t, true
}

// unknownStatus records a scan whose code and text map to no canonical
// status.
func (b *builder) unknownStatus(index int, field string, raw []byte, code, txt string) {
	b.problem(index, field, schemas.ReasonUnknownStatus, raw,
		"no canonical status for code %q (text %q); add it to the %s table in mapping.go", code, cleanText(txt, 80), b.source)
}

// coords returns pointers to a scan's coordinates when it has a plausible
// pair; (0, 0) is the placeholder some carriers send for "unknown".
func coords(lat, lon float64, ok bool) (*float64, *float64) {
	if !ok || lat < -90 || lat > 90 || lon < -180 || lon > 180 || lat == 0 && lon == 0 {
		return nil, nil
	}
	return &lat, &lon
}
