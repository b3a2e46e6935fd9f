package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestFieldsFollowDesign checks the field table against DESIGN section 2,
// copied here by hand.
func TestFieldsFollowDesign(t *testing.T) {
	want := []string{
		"event_id string required 128 key",
		"tracking_number string required 64 key",
		"carrier string required 32 carrier",
		"service string optional 32 text",
		"origin_country string optional 2 country",
		"destination_country string optional 2 country",
		"status string required 0 status",
		"carrier_status string optional 128 text",
		"description string optional 1024 text",
		"occurred_at string required 0 time",
		"location object optional 0 none",
		"location.country string optional 2 country",
		"location.city string optional 128 text",
		"location.postal_code string optional 32 text",
		"location.lat number optional 0 none [-90, 90]",
		"location.lon number optional 0 none [-180, 180]",
		"promised_at string optional 0 time",
		"merchant string optional 64 text",
		"locale string optional 35 locale",
	}
	got := Fields()
	if len(got) != len(want) {
		t.Fatalf("%d fields, want %d", len(got), len(want))
	}
	for i, f := range got {
		req := "optional"
		if f.Required {
			req = "required"
		}
		s := fmt.Sprintf("%s %s %s %d %s", f.Path, f.Type, req, f.MaxLen, f.Format)
		if f.Type == "number" {
			s += fmt.Sprintf(" [%g, %g]", f.Min, f.Max)
		}
		if s != want[i] {
			t.Errorf("field %d: %s, want %s", i, s, want[i])
		}
		if (f.MaxAhead != 0) != (f.Path == "occurred_at") || f.Path == "occurred_at" && f.MaxAhead != 24*time.Hour {
			t.Errorf("%s: MaxAhead %v", f.Path, f.MaxAhead)
		}
	}
	got[0].MaxLen = 1
	if Fields()[0].MaxLen != 128 {
		t.Error("Fields shares its table with the caller")
	}
}

// TestMarshalWritesTableOrder checks that Marshal writes keys in the order
// of Fields, which the decoder's fast path expects.
func TestMarshalWritesTableOrder(t *testing.T) {
	e, err := Decode([]byte(good), now)
	if err != nil {
		t.Fatal(err)
	}
	e.Location.PostalCode = "90045"
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// e has every field, and each key once in the text.
	last := -1
	for _, f := range Fields() {
		key := f.Path[strings.LastIndexByte(f.Path, '.')+1:]
		i := strings.Index(string(b), `"`+key+`":`)
		if i <= last {
			t.Fatalf("Marshal writes %s out of the order of Fields: %s", f.Path, b)
		}
		last = i
	}
}

// reasonField is Decode's answer: "" for accepted, else "reason field".
func reasonField(err error) string {
	if err == nil {
		return ""
	}
	var ie *InvalidError
	if !errors.As(err, &ie) {
		return "not an *InvalidError: " + err.Error()
	}
	return string(ie.Reason) + " " + ie.Field
}

// TestLowerCaseTimes is decision 1: a lower-case t or z is RFC 3339 and
// accepted; Decode keeps the instant, Marshal writes it in upper case.
func TestLowerCaseTimes(t *testing.T) {
	f := func(occurred, promised string, wantOccurred, wantPromised time.Time) {
		t.Helper()
		in := doc("occurred_at", occurred, "promised_at", promised)
		e, err := Decode([]byte(in), now)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !e.OccurredAt.Equal(wantOccurred) || !e.PromisedAt.Equal(wantPromised) {
			t.Fatalf("%s: got %v, %v", in, e.OccurredAt, e.PromisedAt)
		}
		b, _ := e.Marshal()
		for _, w := range []time.Time{wantOccurred, wantPromised} {
			if !strings.Contains(string(b), `"`+w.UTC().Format(time.RFC3339Nano)+`"`) {
				t.Fatalf("Marshal wrote %s", b)
			}
		}
	}
	utc := func(h, m, s, ns int) time.Time { return time.Date(2026, 3, 1, h, m, s, ns, time.UTC) }
	f(`"2026-03-01t10:00:00z"`, `"2026-03-01T10:00:00z"`, utc(10, 0, 0, 0), utc(10, 0, 0, 0))
	f(`"2026-03-01t10:00:00Z"`, `"2026-03-01t12:30:00+02:30"`, utc(10, 0, 0, 0), utc(10, 0, 0, 0))
	f(`"2026-03-01t10:00:00.25z"`, `"2026-03-01t09:00:00.5-01:00"`, utc(10, 0, 0, 250e6), utc(10, 0, 0, 500e6))
	if got := reasonField(decodeErr(doc("occurred_at", `"2026-03-01T10:00:00x"`))); got != "bad_timestamp occurred_at" {
		t.Errorf("other letters: %s", got)
	}
	var e Event
	if err := json.Unmarshal([]byte(doc("occurred_at", `"2026-03-01t10:00:00z"`)), &e); err != nil || !e.OccurredAt.Equal(utc(10, 0, 0, 0)) {
		t.Errorf("json.Unmarshal: %v %v", e.OccurredAt, err)
	}
}

func decodeErr(in string) error {
	_, err := Decode([]byte(in), now)
	return err
}

// TestNestedErrorPaths is decision 2: an error in the location object
// names the field by its full path.
func TestNestedErrorPaths(t *testing.T) {
	f := func(location, want string) {
		t.Helper()
		if got := reasonField(decodeErr(doc("location", location))); got != want {
			t.Errorf("location %s: got %q, want %q", location, got, want)
		}
	}
	f(`{"street":"Main St"}`, "unknown_field location.street")
	f(`{"city":"LA","Street":1}`, "unknown_field location.Street")
	f(`{"str\u0065et":1}`, "unknown_field location.street")
	f(`{"a\"b":1}`, `unknown_field location.a\"b`)
	f(`{"lat":null,"colour":{"a":[1]}}`, "unknown_field location.colour")
	f(`{"country":"us"}`, "invalid_field location.country")
	f(`{"city":"`+strings.Repeat("c", 129)+`"}`, "invalid_field location.city")
	f(`{"city":"a\u0001"}`, "invalid_field location.city")
	f(`{"postal_code":"`+strings.Repeat("1", 33)+`"}`, "invalid_field location.postal_code")
	f(`{"lat":-91}`, "invalid_field location.lat")
	f(`{"lon":181}`, "invalid_field location.lon")
	f(`{"city":"a","city":"b"}`, "malformed_json location.city")
	f(`{"lat":1,"lat":2}`, "malformed_json location.lat")
	// The caller's prefix (an ingest adapter's "lines[0].") goes before it.
	var ie *InvalidError
	if errors.As(decodeErr(doc("location", `{"street":"x"}`)), &ie) && !strings.Contains(ie.Error(), "location.street: unknown field") {
		t.Errorf("message %q", ie.Error())
	}
	// Validate on an event built in code says the same.
	lat := 95.0
	e := Event{EventID: "e", TrackingNumber: "t", Carrier: "dhl", Status: Delivered, OccurredAt: now,
		Location: &Location{City: "a\nb", Lat: &lat}}
	if got := reasonField(e.Validate(now)); got != "invalid_field location.city" {
		t.Errorf("Validate: %s", got)
	}
	e.Location.City = "LA"
	if got := reasonField(e.Validate(now)); got != "invalid_field location.lat" {
		t.Errorf("Validate: %s", got)
	}
}

// TestKeysWithoutEdgeSpace is decision 3: event_id and tracking_number that
// start or end with white space are refused, with a clear message; carrier
// refuses every space anyway.
func TestKeysWithoutEdgeSpace(t *testing.T) {
	f := func(key, value, want string) {
		t.Helper()
		err := decodeErr(doc(key, value))
		if got := reasonField(err); got != want {
			t.Errorf("%s %s: got %q, want %q", key, value, got, want)
		}
		if want != "" && strings.HasPrefix(want, "invalid_field") && key != "carrier" &&
			!strings.Contains(err.Error(), "starts or ends with white space") {
			t.Errorf("%s %s: unclear message %q", key, value, err)
		}
	}
	f("tracking_number", `" LX123456789CN"`, "invalid_field tracking_number")
	f("tracking_number", `"LX123456789CN "`, "invalid_field tracking_number")
	f("tracking_number", `"LX123456789CN\u00a0"`, "invalid_field tracking_number")
	f("tracking_number", `"\u2003LX123456789CN"`, "invalid_field tracking_number")
	f("tracking_number", `"LX123456789CN\u3000"`, "invalid_field tracking_number")
	f("tracking_number", `"LX 123456789 CN"`, "")
	f("tracking_number", `"\u200bLX1"`, "") // zero-width space is not White_Space
	f("event_id", `" e1"`, "invalid_field event_id")
	f("event_id", `"e1 "`, "invalid_field event_id")
	f("event_id", `"dhl:LX1 :01"`, "")
	f("carrier", `" dhl"`, "invalid_field carrier")
	f("carrier", `"dhl "`, "invalid_field carrier")
	// Other text keeps its spaces.
	if e, err := Decode([]byte(doc("description", `" Held "`)), now); err != nil || e.Description != " Held " {
		t.Errorf("description: %q %v", e.Description, err)
	}
	// Validate refuses the same on events built in code.
	e := Event{EventID: "e", TrackingNumber: "LX1 ", Carrier: "dhl", Status: Delivered, OccurredAt: now}
	if got := reasonField(e.Validate(now)); got != "invalid_field tracking_number" {
		t.Errorf("Validate: %s", got)
	}
}

// TestNullIsAbsent is decision 4: null for an optional field is the field
// left out; a required field may not be null.
func TestNullIsAbsent(t *testing.T) {
	for _, key := range []string{"service", "origin_country", "destination_country", "carrier_status", "description",
		"location", "promised_at", "merchant", "locale"} {
		e, err := Decode([]byte(doc(key, "null")), now)
		want, _ := Decode([]byte(minimal), now)
		if err != nil || fmt.Sprint(e) != fmt.Sprint(want) {
			t.Errorf("%s null: %+v %v", key, e, err)
		}
	}
	e, err := Decode([]byte(doc("location", `{"country":null,"city":"LA","postal_code":null,"lat":null,"lon":null}`)), now)
	if err != nil || *e.Location != (Location{City: "LA"}) {
		t.Errorf("location fields null: %+v %v", e.Location, err)
	}
	for _, key := range []string{"event_id", "tracking_number", "carrier", "status", "occurred_at"} {
		if got := reasonField(decodeErr(doc(key, "null"))); got != "missing_field "+key {
			t.Errorf("%s null: %s", key, got)
		}
	}
}

// TestEventInOtherJSON checks that encoding/json writes and reads an Event
// as Marshal and Decode do.
func TestEventInOtherJSON(t *testing.T) {
	e, err := Decode([]byte(good), now)
	if err != nil {
		t.Fatal(err)
	}
	canonical, _ := e.Marshal()
	wrapped, err := json.Marshal(struct {
		Event Event  `json:"event"`
		Ptr   *Event `json:"ptr"`
	}{e, &e})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"event":` + string(canonical) + `,"ptr":` + string(canonical) + `}`; string(wrapped) != want {
		t.Fatalf("json.Marshal:\n%s\nwant\n%s", wrapped, want)
	}
	var back struct{ Event Event }
	if err := json.Unmarshal(wrapped, &back); err != nil {
		t.Fatal(err)
	}
	if b, _ := back.Event.Marshal(); string(b) != string(canonical) {
		t.Fatalf("json.Unmarshal: %s", b)
	}
	err = json.Unmarshal([]byte(doc("tracking_number", `" LX1"`)), &back.Event)
	if got := reasonField(err); got != "invalid_field tracking_number" {
		t.Fatalf("json.Unmarshal of an invalid event: %s", got)
	}
	// Without a clock, a future time passes.
	if err := json.Unmarshal([]byte(doc("occurred_at", `"2999-01-01T00:00:00Z"`)), &back.Event); err != nil {
		t.Fatalf("json.Unmarshal of a future event: %v", err)
	}
}

// TestLocaleRule checks the locale rule (see the package documentation)
// against the pattern of the contract, written out here by hand: absent, or 2-35 characters
// matching ^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$, on every string of up to
// six characters from a small alphabet and on hand-picked ones.
func TestLocaleRule(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
	want := func(s string) bool {
		n := utf8.RuneCountInString(s)
		return s == "" || n >= 2 && n <= 35 && re.MatchString(s)
	}
	check := func(s string) {
		t.Helper()
		e := Event{EventID: "e", TrackingNumber: "t", Carrier: "dhl", Status: InfoReceived, OccurredAt: now, Locale: s}
		err := e.Validate(now)
		if (err == nil) != want(s) {
			t.Fatalf("locale %q: Validate says %v, the rule says valid = %v", s, err, want(s))
		}
		if msg := fmt.Sprint(err); err != nil && (reasonField(err) != "invalid_field locale" ||
			!strings.Contains(msg, "BCP 47") && !strings.Contains(msg, "more than 35") && !strings.Contains(msg, "control character")) {
			t.Fatalf("locale %q: unclear error %v", s, err)
		}
		// Decode, fast path or not, says the same.
		if got, wantErr := reasonField(decodeErr(doc("locale", strconv.Quote(s)))), reasonField(err); got != wantErr {
			t.Fatalf("locale %q: Decode says %q, Validate %q", s, got, wantErr)
		}
	}
	alphabet := []rune{'a', 'Z', '7', '-', '_', 'é'}
	var gen func(prefix []rune, n int)
	gen = func(prefix []rune, n int) {
		check(string(prefix))
		if n == 0 {
			return
		}
		for _, r := range alphabet {
			gen(append(prefix, r), n-1)
		}
	}
	gen(nil, 6)
	for _, s := range []string{"en", "EN", "zh-CN", "pt-BR", "de-DE", "es-419", "zh-Hant-TW", "yue-HK", "sr-Latn-RS",
		"en-US-x-twain", "en-abcdefgh", "en-abcdefghi", "e", "engl", "en-", "-en", "en--US", "en US", " en", "en ",
		"en\t", "en_US", "ën", "en-ÜS", "x-klingon", "i-enochian", "12", "en-12345678", "en-" + strings.Repeat("a", 32),
		"en-" + strings.Repeat("a", 33), "en" + strings.Repeat("-abcdefgh", 3) + "-abcde", "en" + strings.Repeat("-abcdefgh", 3) + "-abcdef",
		"abc" + strings.Repeat("-a", 16), "abc" + strings.Repeat("-a", 17), "en\u2010US", "ｅｎ"} {
		check(s)
	}
}

// TestLocaleKeptAsWritten is the locale decision of the package
// documentation: a valid locale is kept as the producer wrote it, without case folding, through Decode and Marshal.
func TestLocaleKeptAsWritten(t *testing.T) {
	for _, s := range []string{"en", "EN-us", "zh-hant-tw", "pt-BR", "de-DE-1996"} {
		e, err := Decode([]byte(doc("locale", strconv.Quote(s))), now)
		if err != nil || e.Locale != s {
			t.Fatalf("locale %q: decoded %q, %v", s, e.Locale, err)
		}
		b, _ := e.Marshal()
		if !strings.HasSuffix(string(b), `,"locale":`+strconv.Quote(s)+`}`) {
			t.Fatalf("locale %q: Marshal wrote %s", s, b)
		}
	}
	// Absent, null and "" are the same: no locale, and Marshal leaves the
	// key out.
	for _, v := range []string{"-", "null", `""`} {
		e, err := Decode([]byte(doc("locale", v)), now)
		b, _ := e.Marshal()
		if err != nil || e.Locale != "" || strings.Contains(string(b), "locale") {
			t.Fatalf("locale %s: %q %v, marshalled %s", v, e.Locale, err, b)
		}
	}
}

func TestLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "en": "en", "EN": "en", "zh-CN": "zh", "pt-BR": "pt", "PT-br": "pt", "de-DE": "de", "yue-HK": "yue",
		"zh-Hant-TW": "zh", "es-419": "es", "Fr-ca": "fr",
		// Not locales: no language.
		"en_US": "", "e": "", "english": "", "en-": "", " en": "", "-en": "", "x-klingon": "", "ën": "",
		"en-" + strings.Repeat("abcdefgh-", 4) + "x": "",
	} {
		if got := Language(in); got != want {
			t.Errorf("Language(%q) = %q, want %q", in, got, want)
		}
	}
	// The result picks display text; languages without it fall back to
	// English.
	if got := Delivered.Text(Language("zh-CN")); got != "已签收" {
		t.Errorf("zh-CN: %q", got)
	}
	if got := Delivered.Text(Language("pt-BR")); got != Delivered.Text("en") {
		t.Errorf("pt-BR: %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Language("zh-CN") }); n != 0 {
		t.Errorf("Language allocates %v times on a lower-case tag", n)
	}
}
