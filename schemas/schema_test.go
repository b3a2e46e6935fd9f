package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The JSON Schema (event.schema.json) must accept exactly what Decode
// accepts. These rules of Decode it cannot express, so the comparisons skip
// the inputs that only they decide, and say which:
//
//   - size: the message is at most MaxEventSize bytes.
//   - future: occurred_at at most MaxFutureSkew past the receiver's clock
//     (the comparisons run Decode without a clock).
//   - instant: a time's instant lies from 2000-01-01T00:00:00Z to
//     9999-12-31T23:59:59Z; the schema checks the written year and date, so
//     on 1999-12-31, 2000-01-01 and 9999-12-31 an offset can cross a bound.
//   - duplicate: keys are unique; the schema sees the parsed object, in
//     which the last of two values won.
//   - rounding: lat and lon are bounded as the nearest float64, the schema
//     bounds the exact decimal.
//
// Everything else — types, required fields, null and "" as absent, lengths
// in characters, control characters, white space at the ends of keys,
// carrier codes, countries, statuses, the RFC 3339 grammar with its
// calendar, coordinate bounds, unknown keys in either object — the schema
// says, and without format assertion too (its patterns carry the rules).

func TestEventSchemaFile(t *testing.T) {
	committed, err := os.ReadFile("event.schema.json")
	if err != nil {
		t.Fatalf("cannot read the committed schema: %v", err)
	}
	if !bytes.Equal(committed, EventJSONSchema()) {
		t.Fatal("schemas/event.schema.json differs from the field table in schemas/contract.go: run `go generate ./schemas`")
	}
}

// compiledSchemas returns the event schema compiled twice: with format
// assertion (as the 2020-12 format-assertion vocabulary asks) and without
// (the 2020-12 default of most validators).
var compiledSchemas = sync.OnceValues(func() ([]*jsonschema.Schema, error) {
	var out []*jsonschema.Schema
	for _, assert := range []bool{true, false} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(EventJSONSchema()))
		if err != nil {
			return nil, err
		}
		c := jsonschema.NewCompiler()
		if assert {
			c.AssertFormat()
		}
		if err := c.AddResource("event.schema.json", doc); err != nil {
			return nil, err
		}
		s, err := c.Compile("event.schema.json")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
})

func eventSchemas(t testing.TB) []*jsonschema.Schema {
	t.Helper()
	s, err := compiledSchemas()
	if err != nil {
		t.Fatalf("cannot compile the event schema: %v", err)
	}
	return s
}

// schemaVerdict says whether the schemas accept in, or "not json" when
// in is not one JSON value; both schemas must agree.
func schemaVerdict(t testing.TB, in []byte) string {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(in))
	if err != nil {
		return "not json"
	}
	var verdicts []string
	for _, s := range eventSchemas(t) {
		if err := s.Validate(doc); err != nil {
			verdicts = append(verdicts, "reject")
		} else {
			verdicts = append(verdicts, "accept")
		}
	}
	if verdicts[0] != verdicts[1] {
		t.Fatalf("input %q: the schema with format assertion says %s, without %s", in, verdicts[0], verdicts[1])
	}
	return verdicts[0]
}

// unexpressed returns which rule the schema cannot express decides in, or
// "". It reads the input itself, with encoding/json, not with Decode.
func unexpressed(in []byte) string {
	if len(in) > MaxEventSize {
		return "size"
	}
	if hasDuplicateKey(in) {
		return "duplicate"
	}
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(in))
	d.UseNumber()
	if d.Decode(&doc) != nil {
		return ""
	}
	for _, k := range []string{"occurred_at", "promised_at"} {
		if s, ok := doc[k].(string); ok {
			for _, day := range []string{"1999-12-31", "2000-01-01", "9999-12-31"} {
				if strings.HasPrefix(s, day) {
					return "instant"
				}
			}
		}
	}
	if loc, ok := doc["location"].(map[string]any); ok {
		for k, bound := range map[string]float64{"lat": 90, "lon": 180} {
			n, ok := loc[k].(json.Number)
			if !ok {
				continue
			}
			x, err := strconv.ParseFloat(string(n), 64)
			exact, ok := new(big.Rat).SetString(string(n))
			if err == nil && ok && (x == bound || x == -bound) && exact.Cmp(new(big.Rat).SetFloat64(x)) != 0 {
				return "rounding"
			}
		}
	}
	return ""
}

// hasDuplicateKey reports whether an object of the JSON text in has a key
// twice.
func hasDuplicateKey(in []byte) bool {
	d := json.NewDecoder(bytes.NewReader(in))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.object && top.key {
			if top.keys[s] {
				return true
			}
			top.keys[s] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the next string of the enclosing object is a key.
		if len(stack) > 0 {
			stack[len(stack)-1].key = true
		}
	}
}

// bigExponent reports whether in has a number with an exponent of more than
// three digits, which makes the schema's exact arithmetic slow.
var bigExponent = regexp.MustCompile(`[0-9][eE][+-]?[0-9]{4}`)

// checkSchemaAgrees fails t unless the JSON Schema and Decode (without a
// clock) agree on in, or a rule the schema cannot express decides it; it
// returns that rule's name, or "". An accepted event, written by Marshal,
// must pass the schema too.
func checkSchemaAgrees(t testing.TB, in []byte) string {
	t.Helper()
	e, err := Decode(in, time.Time{})
	if bigExponent.Match(in) {
		return ""
	}
	v := schemaVerdict(t, in)
	switch {
	case v == "not json":
		if err == nil {
			t.Fatalf("input %q: Decode accepts what is not one JSON value", in)
		}
		return ""
	case (v == "accept") != (err == nil):
		why := unexpressed(in)
		if why == "" {
			t.Fatalf("input %q: Decode says %v, the schema says %s", in, err, v)
		}
		return why
	}
	if err == nil {
		out, merr := e.Marshal()
		if merr != nil {
			t.Fatalf("input %q: cannot marshal: %v", in, merr)
		}
		if v := schemaVerdict(t, out); v != "accept" {
			t.Fatalf("input %q: the schema says %s to Marshal's %s", in, v, out)
		}
	}
	return ""
}

// contractCase is a crafted input with Decode's answer (with the clock now)
// written by hand, and the schema's where it is not the same: "not json",
// or where a rule it cannot express decides (unexpressed tells which).
type contractCase struct {
	name, in string
	want     string // "" to accept, else "reason field"
	schema   string // "", "not json", or "accept" or "reject" when unexpressed
}

// doc returns an event from minimal, with keys set to raw JSON values,
// added at the end, or removed ("-").
func doc(kv ...string) string {
	keys := []string{"event_id", "tracking_number", "carrier", "status", "occurred_at"}
	vals := map[string]string{"event_id": `"x"`, "tracking_number": `"t"`, "carrier": `"4px"`, "status": `"delivered"`,
		"occurred_at": `"2026-01-01T00:00:00Z"`}
	for i := 0; i < len(kv); i += 2 {
		if _, ok := vals[kv[i]]; !ok {
			keys = append(keys, kv[i])
		}
		vals[kv[i]] = kv[i+1]
	}
	var sb strings.Builder
	sb.WriteByte('{')
	for _, k := range keys {
		if vals[k] == "-" {
			continue
		}
		if sb.Len() > 1 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"` + k + `":` + vals[k]) // keys as written, escapes and all
	}
	sb.WriteByte('}')
	return sb.String()
}

func contractCases() []contractCase {
	q := strconv.Quote
	n := func(s string, k int) string { return q(strings.Repeat(s, k)) }
	return []contractCase{
		// Valid.
		{"minimal", minimal, "", ""},
		{"good", good, "", ""},
		{"typical", typicalEvent, "", ""},
		{"lower t and z", doc("occurred_at", `"2026-03-01t10:00:00z"`), "", ""},
		{"lower t, offset", doc("occurred_at", `"2026-03-01t10:00:00.5+01:00"`), "", ""},
		{"lower z promise", doc("promised_at", `"2026-03-09T10:00:00z"`), "", ""},
		{"fraction and offset", doc("occurred_at", `"2026-09-03T10:00:00.123456789-03:30"`), "", ""},
		{"long fraction", doc("occurred_at", `"2026-09-03T10:00:00.1234567890123Z"`), "", ""},
		{"leap day", doc("occurred_at", `"2024-02-29T00:00:00Z"`), "", ""},
		{"null service", doc("service", `null`), "", ""},
		{"null every optional", doc("service", `null`, "origin_country", `null`, "destination_country", `null`,
			"carrier_status", `null`, "description", `null`, "location", `null`, "promised_at", `null`, "merchant", `null`,
			"locale", `null`), "", ""},
		{"null in location", doc("location", `{"country":null,"city":null,"postal_code":null,"lat":null,"lon":null}`), "", ""},
		{"empty optional strings", doc("service", `""`, "origin_country", `""`, "destination_country", `""`,
			"carrier_status", `""`, "description", `""`, "promised_at", `""`, "merchant", `""`, "locale", `""`,
			"location", `{"country":"","city":"","postal_code":""}`), "", ""},
		{"empty location", doc("location", `{}`), "", ""},
		{"carrier dash and digits", doc("carrier", `"china-post_2"`), "", ""},
		{"carrier 32", doc("carrier", n("c", 32)), "", ""},
		{"space inside tracking", doc("tracking_number", `"LX 123"`), "", ""},
		{"spaces around free text", doc("description", `" Held "`, "merchant", `" m1 "`, "location", `{"city":" LA "}`), "", ""},
		{"id 128 characters", doc("event_id", n("é", 128)), "", ""},
		{"description 1024", doc("description", n("中", 1024)), "", ""},
		{"bounds", doc("location", `{"lat":90,"lon":-180}`), "", ""},
		{"bounds other side", doc("location", `{"lat":-90.0,"lon":180e0}`), "", ""},
		{"escaped key", doc("event_id", "-", `event\u005fid`, `"x"`), "", ""},
		{"unicode city", doc("location", `{"city":"Montréal 上海 😀","country":"CA"}`), "", ""},
		{"invalid UTF-8 becomes U+FFFD", doc("description", "\"a\xffb\""), "", ""},
		{"lone surrogate becomes U+FFFD", doc("description", `"a\ud800b"`), "", ""},
		{"BOM inside id", doc("event_id", `"\ufeffx"`), "", ""},
		{"C1 control", doc("description", `"\u0085x"`), "", ""},
		{"23 hours ahead", doc("occurred_at", `"2026-11-22T23:00:00Z"`), "", ""},
		{"locale", doc("locale", `"zh-CN"`), "", ""},
		{"locale language only", doc("locale", `"de"`), "", ""},
		{"locale as written", doc("locale", `"EN-us"`), "", ""},
		{"locale three letters and script", doc("locale", `"yue-Hant-HK"`), "", ""},
		{"locale digits", doc("locale", `"es-419"`), "", ""},
		{"locale 35", doc("locale", q("en"+strings.Repeat("-abcdefgh", 3)+"-abcde")), "", ""},
		{"locale escaped", doc("locale", `"pt\u002DBR"`), "", ""},
		{"last second", doc("occurred_at", `"9999-12-31T23:59:59Z"`), "future_timestamp occurred_at", "accept"},

		// Missing and null required fields.
		{"no event_id", doc("event_id", "-"), "missing_field event_id", ""},
		{"null event_id", doc("event_id", `null`), "missing_field event_id", ""},
		{"empty event_id", doc("event_id", `""`), "missing_field event_id", ""},
		{"null tracking", doc("tracking_number", `null`), "missing_field tracking_number", ""},
		{"no carrier", doc("carrier", "-"), "missing_field carrier", ""},
		{"null carrier", doc("carrier", `null`), "missing_field carrier", ""},
		{"no status", doc("status", "-"), "missing_field status", ""},
		{"null status", doc("status", `null`), "missing_field status", ""},
		{"no time", doc("occurred_at", "-"), "missing_field occurred_at", ""},
		{"null time", doc("occurred_at", `null`), "missing_field occurred_at", ""},
		{"empty time", doc("occurred_at", `""`), "missing_field occurred_at", ""},

		// Keys that identify: white space at the ends.
		{"id leading space", doc("event_id", `" x"`), "invalid_field event_id", ""},
		{"tracking leading space", doc("tracking_number", `" LX1"`), "invalid_field tracking_number", ""},
		{"tracking trailing space", doc("tracking_number", `"LX1 "`), "invalid_field tracking_number", ""},
		{"tracking no-break space", doc("tracking_number", `"LX1\u00a0"`), "invalid_field tracking_number", ""},
		{"tracking ideographic space", doc("tracking_number", `"\u3000LX1"`), "invalid_field tracking_number", ""},
		{"tracking next line", doc("tracking_number", `"LX1\u0085"`), "invalid_field tracking_number", ""},
		{"tracking only space", doc("tracking_number", `" "`), "invalid_field tracking_number", ""},
		{"tracking tab", doc("tracking_number", `"LX1\t"`), "invalid_field tracking_number", ""},
		{"tracking 65", doc("tracking_number", n("1", 65)), "invalid_field tracking_number", ""},
		{"id 129", doc("event_id", n("x", 129)), "invalid_field event_id", ""},

		// Formats.
		{"carrier upper", doc("carrier", `"DHL"`), "invalid_field carrier", ""},
		{"carrier space", doc("carrier", `"dhl "`), "invalid_field carrier", ""},
		{"carrier dash first", doc("carrier", `"-dhl"`), "invalid_field carrier", ""},
		{"carrier 33", doc("carrier", n("c", 33)), "invalid_field carrier", ""},
		{"status unknown", doc("status", `"lost"`), "unknown_status status", ""},
		{"status case", doc("status", `"Delivered"`), "unknown_status status", ""},
		{"country lower", doc("origin_country", `"cn"`), "invalid_field origin_country", ""},
		{"country three letters", doc("destination_country", `"USA"`), "invalid_field destination_country", ""},
		{"country digit", doc("origin_country", `"C1"`), "invalid_field origin_country", ""},
		{"location country lower", doc("location", `{"country":"us"}`), "invalid_field location.country", ""},
		{"locale 36", doc("locale", q("en"+strings.Repeat("-abcdefgh", 3)+"-abcdef")), "invalid_field locale", ""},
		{"locale one letter", doc("locale", `"e"`), "invalid_field locale", ""},
		{"locale four letters", doc("locale", `"engl"`), "invalid_field locale", ""},
		{"locale underscore", doc("locale", `"en_US"`), "invalid_field locale", ""},
		{"locale trailing dash", doc("locale", `"en-"`), "invalid_field locale", ""},
		{"locale empty subtag", doc("locale", `"en--US"`), "invalid_field locale", ""},
		{"locale subtag 9", doc("locale", `"en-abcdefghi"`), "invalid_field locale", ""},
		{"locale space", doc("locale", `"en "`), "invalid_field locale", ""},
		{"locale newline", doc("locale", `"en\n"`), "invalid_field locale", ""},
		{"locale non-ASCII", doc("locale", `"\u00ebn"`), "invalid_field locale", ""},
		{"locale number", doc("locale", `49`), "malformed_json ", ""},
		{"locale in location", doc("location", `{"locale":"en"}`), "unknown_field location.locale", ""},

		// Times.
		{"time space", doc("occurred_at", `"2026-03-01 10:00:00Z"`), "bad_timestamp occurred_at", ""},
		{"time comma", doc("occurred_at", `"2026-03-01T10:00:00,5Z"`), "bad_timestamp occurred_at", ""},
		{"time one-digit hour", doc("occurred_at", `"2026-03-01T1:00:00Z"`), "bad_timestamp occurred_at", ""},
		{"time leap second", doc("occurred_at", `"2026-06-30T23:59:60Z"`), "bad_timestamp occurred_at", ""},
		{"time offset 24", doc("occurred_at", `"2026-03-01T10:00:00+24:00"`), "bad_timestamp occurred_at", ""},
		{"time offset no colon", doc("occurred_at", `"2026-03-01T10:00:00+0100"`), "bad_timestamp occurred_at", ""},
		{"time no zone", doc("occurred_at", `"2026-03-01T10:00:00"`), "bad_timestamp occurred_at", ""},
		{"time no leap day", doc("occurred_at", `"2026-02-29T00:00:00Z"`), "bad_timestamp occurred_at", ""},
		{"time no leap century", doc("promised_at", `"2100-02-29T00:00:00Z"`), "bad_timestamp promised_at", ""},
		{"time leap century", doc("promised_at", `"2400-02-29T00:00:00Z"`), "", ""},
		{"time April 31", doc("occurred_at", `"2026-04-31T00:00:00Z"`), "bad_timestamp occurred_at", ""},
		{"time 1999", doc("occurred_at", `"1999-06-01T00:00:00Z"`), "bad_timestamp occurred_at", ""},
		{"time year one", doc("occurred_at", `"0001-01-01T00:00:00Z"`), "bad_timestamp occurred_at", ""},
		{"time words", doc("promised_at", `"soon"`), "bad_timestamp promised_at", ""},
		{"time number", doc("promised_at", `1767225600`), "malformed_json ", ""},
		{"future", doc("occurred_at", `"2026-11-24T00:00:00Z"`), "future_timestamp occurred_at", "accept"},
		{"instant before 2000", doc("occurred_at", `"2000-01-01T00:30:00+01:00"`), "bad_timestamp occurred_at", "accept"},
		{"instant after 1999", doc("occurred_at", `"1999-12-31T23:30:00-01:00"`), "", "reject"},
		{"instant after 9999", doc("promised_at", `"9999-12-31T23:30:00-01:00"`), "bad_timestamp promised_at", "accept"},

		// Free text.
		{"control character", doc("description", `"a\u0000"`), "invalid_field description", ""},
		{"escaped newline", doc("carrier_status", `"a\nb"`), "invalid_field carrier_status", ""},
		{"raw DEL", doc("merchant", "\"m\x7f\""), "invalid_field merchant", ""},
		{"control in city", doc("location", `{"city":"L\rA"}`), "invalid_field location.city", ""},
		{"description 1025", doc("description", n("中", 1025)), "invalid_field description", ""},
		{"service 33", doc("service", n("s", 33)), "invalid_field service", ""},
		{"carrier_status 129", doc("carrier_status", n("s", 129)), "invalid_field carrier_status", ""},
		{"merchant 65", doc("merchant", n("m", 65)), "invalid_field merchant", ""},
		{"city 129", doc("location", `{"city":`+n("c", 129)+`}`), "invalid_field location.city", ""},
		{"postal code 33", doc("location", `{"postal_code":`+n("1", 33)+`}`), "invalid_field location.postal_code", ""},

		// Coordinates.
		{"lat 90.5", doc("location", `{"lat":90.5}`), "invalid_field location.lat", ""},
		{"lon -180.1", doc("location", `{"lon":-180.1}`), "invalid_field location.lon", ""},
		{"lat huge", doc("location", `{"lat":1e400}`), "malformed_json ", ""},
		{"lat string", doc("location", `{"lat":"33.9"}`), "malformed_json ", ""},
		{"lat bool", doc("location", `{"lat":true}`), "malformed_json ", ""},
		{"lat rounds onto the bound", doc("location", `{"lat":90.0000000000000000001}`), "", "reject"},

		// Types and structure.
		{"id number", doc("event_id", `1`), "malformed_json ", ""},
		{"status number", doc("status", `11`), "malformed_json ", ""},
		{"location string", doc("location", `"LA"`), "malformed_json ", ""},
		{"location array", doc("location", `[]`), "malformed_json ", ""},
		{"unknown key", doc("colour", `"red"`), "unknown_field colour", ""},
		{"unknown null key", doc("colour", `null`), "unknown_field colour", ""},
		{"unknown key in location", doc("location", `{"street":"Main St"}`), "unknown_field location.street", ""},
		{"upper-case key", doc("event_id", "-", "EVENT_ID", `"x"`), "unknown_field EVENT_ID", ""},
		{"repeated key", strings.Replace(doc(), `"event_id":"x"`, `"event_id":"x","event_id":"y"`, 1), "malformed_json event_id", "accept"},
		{"repeated key in location", doc("location", `{"city":"a","city":"b"}`), "malformed_json location.city", "accept"},
		{"top-level array", `[` + minimal + `]`, "malformed_json ", ""},
		{"top-level null", `null`, "missing_field status", ""},
		{"top-level string", `"event"`, "malformed_json ", ""},
		{"empty object", `{}`, "missing_field status", ""},
		{"trailing data", minimal + `{}`, "malformed_json ", "not json"},
		{"oversize", minimal[:len(minimal)-1] + strings.Repeat(" ", MaxEventSize) + "}", "oversize ", "accept"},
	}
}

func TestSchemaMatchesDecodeOnCraftedEvents(t *testing.T) {
	cases := contractCases()
	if len(cases) < 60 {
		t.Fatalf("%d crafted cases, want at least 60", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.in), now)
			got := ""
			if err != nil {
				ie := err.(*InvalidError)
				got = string(ie.Reason) + " " + ie.Field
			}
			if got != c.want {
				t.Fatalf("Decode: got %q (%v), want %q", got, err, c.want)
			}
			want := c.schema
			if want == "" {
				want = "reject"
				if c.want == "" {
					want = "accept"
				}
			}
			if v := schemaVerdict(t, []byte(c.in)); v != want {
				t.Fatalf("schema: got %s, want %s", v, want)
			}
			why := checkSchemaAgrees(t, []byte(c.in))
			if c.want == "future_timestamp occurred_at" {
				why = "future" // the comparison runs Decode without a clock
			}
			if (c.schema == "accept" || c.schema == "reject") != (why != "") {
				t.Fatalf("unexpressed rule %q, but the schema's answer is given as %q", why, c.schema)
			}
			seen[why] = true
		})
	}
	for _, why := range []string{"size", "future", "instant", "duplicate", "rounding"} {
		if !seen[why] {
			t.Errorf("no crafted case for the unexpressed rule %q", why)
		}
	}
}

// TestSchemaMatchesDecode runs the inputs of the other tests and
// generated-style events through both.
func TestSchemaMatchesDecode(t *testing.T) {
	var inputs []string
	for _, c := range decodeCases() {
		inputs = append(inputs, c.in)
	}
	inputs = append(inputs, mutations(good, typicalEvent, minimal)...)
	inputs = append(inputs, generatedEvents(1000, 1)...)
	skipped := map[string]int{}
	for _, in := range inputs {
		skipped[checkSchemaAgrees(t, []byte(in))]++
	}
	t.Logf("%d inputs; skipped for rules the schema cannot express: %v", len(inputs), skipped)
}

// generatedEvents returns n events as the workload generator and outside
// producers write them: mostly valid, with the liberties the contract
// allows (lower-case t and z, offsets, fractions, null and "" for absent
// fields), and now and then a field broken.
func generatedEvents(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 42))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	carriers := []string{"dhl", "fedex", "ups", "usps", "chinapost", "ems", "cainiao", "yunexpress", "4px", "yanwen"}
	countries := []string{"CN", "US", "DE", "GB", "FR", "ES", "JP", "AU", "BR", "MX"}
	var statuses []string
	for _, s := range Statuses() {
		statuses = append(statuses, s.String())
	}
	ts := func() string {
		t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(690 * 24 * time.Hour))))
		if r.IntN(3) == 0 {
			t = t.Add(time.Duration(r.IntN(1e9)))
		}
		offsets := []int{0, 3600, -5 * 3600, 8 * 3600, 5*3600 + 45*60, -(3*3600 + 30*60), 14 * 3600, -12 * 3600}
		s := t.In(time.FixedZone("", offsets[r.IntN(len(offsets))])).Format(time.RFC3339Nano)
		if r.IntN(8) == 0 {
			s = strings.ToLower(s)
		}
		return s
	}
	absent := func(key, v string) []string {
		switch r.IntN(6) {
		case 0:
			return nil
		case 1:
			return []string{key, "null"}
		case 2:
			if v[0] == '"' {
				return []string{key, `""`}
			}
		}
		return []string{key, v}
	}
	var out []string
	for i := range n {
		tn := fmt.Sprintf("%s%09d%s", pick("LX", "RR", "UA", ""), r.IntN(1e9), pick("CN", "", "US"))
		kv := []string{"event_id", strconv.Quote(fmt.Sprintf("%s:%s:%02d", pick(carriers...), tn, i%20)),
			"tracking_number", strconv.Quote(tn), "carrier", strconv.Quote(pick(carriers...)),
			"status", strconv.Quote(pick(statuses...)), "occurred_at", strconv.Quote(ts())}
		kv = append(kv, absent("service", pick(`"express"`, `"standard"`, `"economy"`))...)
		kv = append(kv, absent("origin_country", strconv.Quote(pick(countries...)))...)
		kv = append(kv, absent("destination_country", strconv.Quote(pick(countries...)))...)
		kv = append(kv, absent("carrier_status", pick(`"AF"`, `"PU"`, `"OK"`, `"I"`))...)
		kv = append(kv, absent("description", pick(`"Arrived at Sort Facility"`, `"Shipment picked up"`, `"Clearance event"`, `"已签收"`))...)
		kv = append(kv, absent("promised_at", strconv.Quote(ts()))...)
		kv = append(kv, absent("merchant", strconv.Quote(fmt.Sprintf("m-%s-%03d", strings.ToLower(pick(countries...)), r.IntN(100))))...)
		if r.IntN(3) != 0 {
			kv = append(kv, absent("locale", pick(`"en-US"`, `"zh-CN"`, `"pt-BR"`, `"de-DE"`, `"fr-CA"`, `"es"`, `"es-419"`, `"EN-gb"`))...)
		}
		if r.IntN(4) != 0 {
			loc := fmt.Sprintf(`{"country":%q,"city":%q,"lat":%s,"lon":%s}`, pick(countries...), pick("Leipzig", "East Midlands Airport", "Shenzhen", "Los Angeles"),
				strconv.FormatFloat(r.Float64()*180-90, 'f', r.IntN(6), 64), strconv.FormatFloat(r.Float64()*360-180, 'f', r.IntN(6), 64))
			kv = append(kv, absent("location", loc)...)
		}
		if r.IntN(5) == 0 {
			// Break one field.
			j := 2*r.IntN(len(kv)/2) + 1
			kv[j] = pick(`" `+strings.Trim(kv[j], `"`)+`"`, `null`, `""`, `"X"`, `1`, `"2026-13-01T00:00:00Z"`, `"ok\u0001"`,
				`{"lat":91}`, `{"town":"x"}`, `"`+strings.Repeat("é", 200)+`"`, strings.ToUpper(kv[j]))
		}
		out = append(out, doc(kv...))
	}
	return out
}

// FuzzSchemaMatchesDecode compares the schema and Decode on fuzzed inputs,
// alone and spliced into a valid event.
func FuzzSchemaMatchesDecode(f *testing.F) {
	for _, c := range contractCases() {
		if len(c.in) < 4096 {
			f.Add([]byte(c.in))
		}
	}
	for _, in := range generatedEvents(50, 2) {
		f.Add([]byte(in))
	}
	eventSchemas(f)
	type splice struct{ before, after string }
	var splices []splice
	for _, at := range []string{`"e1"`, `"LX123456789CN"`, `"chinapost"`, `"CN"`, `"customs_held"`, `"Held"`,
		`"2026-09-03T10:00:00+08:00"`, `"2026-09-20T00:00:00Z"`, `"Los Angeles"`, `33.9`, `"en-US"`} {
		i := strings.Index(good, at)
		splices = append(splices, splice{good[:i], good[i+len(at):]})
		if at[0] == '"' {
			splices = append(splices, splice{good[:i+1], good[i+len(at)-1:]})
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSchemaAgrees(t, b)
		for _, s := range splices {
			checkSchemaAgrees(t, []byte(s.before+string(b)+s.after))
		}
	})
}

func TestSchemaPatterns(t *testing.T) {
	f := func(pattern string, accept, reject []string) {
		t.Helper()
		re := regexp.MustCompile(pattern)
		for _, s := range accept {
			if !re.MatchString(s) {
				t.Errorf("%s refuses %q", pattern, s)
			}
		}
		for _, s := range reject {
			if re.MatchString(s) {
				t.Errorf("%s accepts %q", pattern, s)
			}
		}
	}
	f(textPattern, []string{"", "a b", " x ", "é中😀", "\u0085", "\u00a0"}, []string{"\x00", "a\nb", "\t", "\x1f", "\x7f"})
	f(keyPattern, []string{"x", "LX 1", "é", "a\u00a0b", "\ufeffx"},
		[]string{"", " ", " x", "x ", "\u00a0x", "x\u3000", "\u2028x", "x\u0085", "\u1680x", "x\u202f", "x\u205f", "\u2000x", "x\u200a", "a\nb", "\x7f"})
	f(carrierPattern, []string{"dhl", "4px", "china-post", "a_b", "a"}, []string{"", "DHL", "-a", "a-", "_a", "a b", "é"})
	f(countryPattern, []string{"CN", "US"}, []string{"", "cn", "C", "CNN", "C1"})
	f(localePattern, []string{"en", "EN", "zh-CN", "pt-BR", "yue-HK", "zh-Hant-TW", "es-419", "en-abcdefgh", "de-DE-1996"},
		[]string{"", "e", "engl", "en-", "-en", "en--US", "en_US", "en US", " en", "en-abcdefghi", "ën", "en\n", "en-US\n"})
	f(timePattern,
		[]string{"2000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-03-01t10:00:00z", "2024-02-29T12:00:00.5+05:45",
			"2000-02-29T00:00:00Z", "2400-02-29T00:00:00Z", "2096-02-29T00:00:00Z", "2026-01-31T00:00:00-23:59"},
		[]string{"1999-12-31T23:59:59Z", "2100-02-29T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
			"2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "2026-01-01T00:00:00,5Z",
			"2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+00:60", "2026-01-01T00:00:00",
			"2026-01-01T0:00:00Z", "2026-01-01 00:00:00Z", "10000-01-01T00:00:00Z", "2026-01-01T00:00:00Z\n"})
}

// TestTimePatternFollowsParser checks the time pattern against
// parseRFC3339 and the year bounds on every day of 1999 to 2030, around
// the end of February and of every month to 2401 and in 9999, and on
// variants of the time of day.
func TestTimePatternFollowsParser(t *testing.T) {
	re := regexp.MustCompile(timePattern)
	check := func(s string) {
		t.Helper()
		tm, ok := parseRFC3339(s)
		year := 0
		if len(s) >= 4 {
			year, _ = strconv.Atoi(s[:4])
		}
		want := ok && year >= 2000
		if re.MatchString(s) != want {
			t.Fatalf("%q: pattern %v, parser %v %v", s, !want, ok, tm)
		}
	}
	for d := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2031; d = d.Add(24 * time.Hour) {
		check(d.Format("2006-01-02T15:04:05Z"))
	}
	for _, years := range [][2]int{{1999, 2402}, {9999, 10000}} {
		for y := years[0]; y < years[1]; y++ {
			for m := 1; m <= 12; m++ {
				for _, day := range []string{"00", "01", "28", "29", "30", "31", "32"} {
					check(fmt.Sprintf("%04d-%02d-%sT00:00:00Z", y, m, day))
				}
			}
		}
	}
	clocks := []string{"00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "1:00:00", "12:00", "ab:00:00"}
	fractions := []string{"", ".0", ".123456789012", ".", ",5"}
	zones := []string{"Z", "z", "+00:00", "-00:00", "+23:59", "+24:00", "-12:60", "+0100", "+01", "", "UTC", "Z "}
	for _, c := range clocks {
		for _, fr := range fractions {
			for _, z := range zones {
				for _, sep := range []string{"T", "t", " "} {
					check("2026-06-15" + sep + c + fr + z)
				}
			}
		}
	}
}

// TestSchemaDescribesTheTable checks the generated schema against the table
// by reading it back as plain JSON.
func TestSchemaDescribesTheTable(t *testing.T) {
	var s struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(EventJSONSchema(), &s); err != nil {
		t.Fatal(err)
	}
	want := []string{"event_id", "tracking_number", "carrier", "status", "occurred_at"}
	if !slices.Equal(s.Required, want) {
		t.Errorf("required %v, want %v", s.Required, want)
	}
	var keys []string
	for k := range s.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want = []string{"carrier", "carrier_status", "description", "destination_country", "event_id", "locale", "location",
		"merchant", "occurred_at", "origin_country", "promised_at", "service", "status", "tracking_number"}
	if !slices.Equal(keys, want) {
		t.Errorf("properties %v, want %v", keys, want)
	}
	if bytes.ContainsFunc(EventJSONSchema(), func(r rune) bool { return r >= 0x80 }) {
		t.Error("the schema file has non-ASCII characters; they should be \\u escapes")
	}
}
