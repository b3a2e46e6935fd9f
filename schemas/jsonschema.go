package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// EventJSONSchema returns the JSON Schema (draft 2020-12) of the canonical
// event, for producers outside shiplens, built from the field table (Fields).
// It is the content of schemas/event.schema.json, which
// `go generate ./schemas` writes. The slice is the caller's.
func EventJSONSchema() []byte { return bytes.Clone(eventSchema()) }

var eventSchema = sync.OnceValue(buildEventSchema)

// The patterns of the formats, in the syntax that ECMA-262 (JSON Schema's)
// and Go's regexp share: no \d, \s or \u escapes; characters above U+00FF
// are written as themselves.
var (
	// controlClass is the control characters FormatText refuses.
	controlClass = `\x00-\x1f\x7f`
	textPattern  = `^[^` + controlClass + `]*$`
	// keyPattern refuses white space at the ends as well.
	keyPattern     = `^[^` + edgeClass() + `](?:[^` + controlClass + `]*[^` + edgeClass() + `])?$`
	carrierPattern = `^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$`
	countryPattern = `^[A-Z]{2}$`
	localePattern  = `^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$`
	timePattern    = rfc3339Pattern(minTime.Year(), maxTime.Year())
)

// formatPatterns are the patterns of the string formats; a status has an
// enum instead.
var formatPatterns = map[Format]string{FormatText: textPattern, FormatKey: keyPattern, FormatCarrier: carrierPattern,
	FormatCountry: countryPattern, FormatTime: timePattern, FormatLocale: localePattern}

// edgeClass returns the characters of a character class that FormatKey
// refuses at the start or end of a value: control characters and Unicode
// White_Space.
func edgeClass() string {
	in := map[rune]bool{0x7f: true}
	for r := rune(0); r < 0x20; r++ {
		in[r] = true
	}
	for _, rg := range unicode.White_Space.R16 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			in[r] = true
		}
	}
	for _, rg := range unicode.White_Space.R32 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			in[r] = true
		}
	}
	runes := make([]rune, 0, len(in))
	for r := range in {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	char := func(r rune) string {
		if r <= 0xff {
			return fmt.Sprintf(`\x%02x`, r)
		}
		return string(r)
	}
	var sb strings.Builder
	for i := 0; i < len(runes); {
		j := i
		for j+1 < len(runes) && runes[j+1] == runes[j]+1 {
			j++
		}
		sb.WriteString(char(runes[i]))
		if j > i {
			sb.WriteString("-" + char(runes[j]))
		}
		i = j + 1
	}
	return sb.String()
}

// rfc3339Pattern returns the pattern of FormatTime for the years from to
// through, which must be from a multiple of 1000 through 9999: the grammar
// of parseRFC3339, with the days each month has.
func rfc3339Pattern(from, through int) string {
	if from%1000 != 0 || from < 1000 || through != 9999 {
		panic(fmt.Sprintf("schemas: no pattern for the years %d to %d", from, through))
	}
	first := from / 1000
	century := fmt.Sprintf("[%d-9][0-9]", first)
	var leapCenturies []string // the centuries whose year 00 is a leap year
	for c := first * 10; c <= 99; c++ {
		if c%4 == 0 {
			leapCenturies = append(leapCenturies, fmt.Sprint(c))
		}
	}
	date := `(?:` + century + `[0-9]{2}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))` +
		`|(?:` + century + `(?:0[48]|[2468][048]|[13579][26])|(?:` + strings.Join(leapCenturies, "|") + `)00)-02-29)`
	clock := `(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?`
	offset := `(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])`
	return `^` + date + `[Tt]` + clock + offset + `$`
}

// member is one key and value of an object that keeps its keys in order.
type member struct {
	key   string
	value any
}

// object is a JSON object with its keys in the order given.
type object []member

// MarshalJSON writes o with its keys in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		for _, v := range []any{m.key, m.value} {
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				return nil, err
			}
			b.Truncate(b.Len() - 1) // Encode's newline
			if v == m.key {
				b.WriteByte(':')
			}
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func buildEventSchema() []byte {
	var required []string
	for _, f := range wireOrder {
		if fields[f].Required && !isLocationField(f) {
			required = append(required, fields[f].Path)
		}
	}
	doc := object{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", "https://github.com/shiplens/shiplens/schemas/event.schema.json"},
		{"$comment", "Generated from the field table in schemas/contract.go by `go generate ./schemas`; do not edit."},
		{"title", "shiplens canonical tracking event"},
		{"description", fmt.Sprintf("One carrier scan, one JSON object per Kafka message on %s (key = tracking_number). "+
			"Every key may appear once. An optional field may be left out or null (or, for a string, \"\"): all mean absent. "+
			"Rules that JSON Schema cannot express and shiplens also checks: the message is at most %d bytes; "+
			"occurred_at is at most %s past the receiver's clock; the instant of a time, not only its written date, lies "+
			"from %s to %s; keys are unique; lat and lon are bounded as the nearest float64.",
			EventsTopic, MaxEventSize, hours(MaxFutureSkew), minTime.Format("2006-01-02T15:04:05Z"),
			maxTime.Format("2006-01-02T15:04:05Z"))},
		{"type", "object"},
		{"additionalProperties", false},
		{"required", required},
		{"properties", properties(false)},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		panic(fmt.Sprintf("schemas: cannot encode the JSON Schema: %v", err))
	}
	return asciiJSON(b.Bytes())
}

func hours(d time.Duration) string { return fmt.Sprintf("%g hours", d.Hours()) }

// properties returns the schemas of the fields of the event, or of its
// location.
func properties(ofLocation bool) object {
	var props object
	for _, f := range wireOrder {
		if isLocationField(f) == ofLocation {
			props = append(props, member{jsonKey(f), fieldSchema(f)})
		}
	}
	return props
}

// fieldSchema returns the schema of field f: its rule, and for an optional
// field the alternatives null and, for a string that the rule refuses empty,
// "".
func fieldSchema(f int) object {
	fd := &fields[f]
	var out object
	if d := fieldDescription(f); d != "" {
		out = append(out, member{"description", d})
	}
	rule := ruleSchema(f)
	if fd.Required {
		return append(out, rule...)
	}
	alts := []any{object{{"type", "null"}}}
	if fd.Type == "string" && fd.Format != FormatText {
		alts = append(alts, object{{"const", ""}})
	}
	return append(out, member{"anyOf", append(alts, rule)})
}

func fieldDescription(f int) string {
	fd := &fields[f]
	d := fd.Description
	add := func(s string) {
		if d != "" {
			d += " "
		}
		d += s
	}
	switch fd.Format {
	case FormatKey:
		add("No white space at its start or end.")
	case FormatTime:
		add("RFC 3339 date-time; T and Z may be lower case; no leap second.")
	}
	if fd.Required {
		add("Required.")
	}
	return d
}

// ruleSchema returns the schema of a present value of field f.
func ruleSchema(f int) object {
	fd := &fields[f]
	o := object{{"type", fd.Type}}
	switch fd.Type {
	case "string":
		if fd.Format == FormatStatus {
			var codes []string
			for _, s := range Statuses() {
				codes = append(codes, s.String())
			}
			return append(o, member{"enum", codes})
		}
		if fd.Format == FormatTime {
			o = append(o, member{"format", "date-time"})
		}
		if fd.Required {
			o = append(o, member{"minLength", 1})
		}
		if fd.MaxLen > 0 {
			o = append(o, member{"maxLength", fd.MaxLen})
		}
		p, ok := formatPatterns[fd.Format]
		if !ok {
			panic(fmt.Sprintf("schemas: no pattern for format %s of %s", fd.Format, fd.Path))
		}
		o = append(o, member{"pattern", p})
	case "number":
		o = append(o, member{"minimum", fd.Min}, member{"maximum", fd.Max})
	case "object":
		o = append(o, member{"additionalProperties", false}, member{"properties", properties(true)})
	}
	return o
}

// asciiJSON writes every non-ASCII character of the JSON text b as a \u
// escape, which keeps the invisible characters of the patterns readable.
// Outside strings JSON is ASCII, so only strings change.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r < utf8.RuneSelf:
			out.WriteByte(b[0])
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		b = b[n:]
	}
	return out.Bytes()
}
