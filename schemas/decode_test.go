package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// sameAsStd fails t unless decodeFast and decodeStd agree on in: both accept
// it and build the same event, or both reject it with the same reason and
// field. It returns what decodeFast returned.
func sameAsStd(t *testing.T, in []byte) (Event, error) {
	t.Helper()
	fe, ferr := decodeFast(in, now)
	se, serr := decodeStd(in, now)
	// The decoder's bit sets for textsOK: filled as measure says, long with
	// at least every string that has too many characters.
	if d := (eventDecoder{b: in}); len(in) <= MaxEventSize && d.top() == nil {
		var r rawEvent
		d.raw(&r)
		m := r
		m.measure()
		for f, v := range r.s {
			if utf8.RuneCountInString(v) > int(textMaxLen[f]) && r.long&(1<<f) == 0 || r.filled != m.filled {
				t.Fatalf("input %q: filled %b long %b, measure says %b %b", in, r.filled, r.long, m.filled, m.long)
			}
		}
	}
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("input %q:\nfast: %+v, %v\nstd:  %+v, %v", in, fe, ferr, se, serr)
	}
	if ferr != nil {
		var fi, si *InvalidError
		if !errors.As(ferr, &fi) || !errors.As(serr, &si) {
			t.Fatalf("input %q: errors %T %v and %T %v are not both *InvalidError", in, ferr, ferr, serr, serr)
		}
		if fi.Reason != si.Reason || fi.Field != si.Field {
			t.Fatalf("input %q:\nfast: %s %q (%v)\nstd:  %s %q (%v)", in, fi.Reason, fi.Field, ferr, si.Reason, si.Field, serr)
		}
		if fi.Detail == "" || !strings.HasPrefix(ferr.Error(), "invalid event: ") {
			t.Fatalf("input %q: unclear error %q", in, ferr)
		}
		return fe, ferr
	}
	fb, err1 := fe.Marshal()
	sb, err2 := se.Marshal()
	if err1 != nil || err2 != nil {
		t.Fatalf("input %q: cannot marshal: %v, %v", in, err1, err2)
	}
	if !bytes.Equal(fb, sb) || !reflect.DeepEqual(fe, se) {
		t.Fatalf("input %q:\nfast: %s\nstd:  %s", in, fb, sb)
	}
	return fe, nil
}

// minimal is the smallest valid event.
const minimal = `{"event_id":"x","tracking_number":"t","carrier":"4px","status":"delivered","occurred_at":"2026-01-01T00:00:00Z"}`

// decodeCase is an input of Decode and what it must make of it.
type decodeCase struct {
	name, in string
	want     string           // "" to accept, else "reason field" of the rejection
	check    func(Event) bool // when not nil, looks at the accepted event
}

// mod returns good with its first old replaced by new.
func mod(old, new string) string {
	if !strings.Contains(good, old) {
		panic(fmt.Sprintf("good has no %q", old))
	}
	return strings.Replace(good, old, new, 1)
}

// decodeCases are the inputs of TestDecodeMatchesStd, also used by the
// JSON Schema tests.
func decodeCases() []decodeCase {
	return []decodeCase{
		{"good", good, "", nil},
		{"typical", typicalEvent, "", nil},
		{"pre-advice", preAdvice, "", func(e Event) bool { return e.Locale == "es-US" && e.Location == nil }},
		{"minimal", minimal, "", func(e Event) bool { return e.Location == nil && e.PromisedAt.IsZero() }},
		{"whitespace everywhere", " \t\r\n{ \"event_id\" : \"x\" ,\n\"tracking_number\"\t:\t\"t\" , \"carrier\":\"4px\",\"status\" :\"delivered\", " +
			`"occurred_at":"2026-01-01T00:00:00Z" , "location" : { "lat" : 1.5 , "city" : "c" } } ` + "\n\t", "",
			func(e Event) bool { return e.Location.City == "c" && *e.Location.Lat == 1.5 }},

		// Keys: exact, escaped, duplicated.
		{"upper key", mod(`"event_id":"e1"`, `"EVENT_ID":"e2"`), "unknown_field EVENT_ID", nil},
		{"mixed key", mod(`"event_id":"e1"`, `"Event_Id":"e2"`), "unknown_field Event_Id", nil},
		{"kelvin key", mod(`"tracking_number"`, "\"trac\u212Aing_number\""), "unknown_field trac\u212Aing_number", nil},
		{"escaped kelvin key", mod(`"tracking_number"`, `"trac\u212Aing_number"`), "unknown_field trac\u212Aing_number", nil},
		{"long s key", mod(`"service"`, `"ſervice"`), "unknown_field ſervice", nil},
		{"dotless i key", mod(`"event_id"`, `"event_ıd"`), "unknown_field event_ıd", nil},
		{"dotted I key", mod(`"event_id"`, `"event_İd"`), "unknown_field event_İd", nil},
		{"escaped key", mod(`"event_id"`, `"event\u005fid"`), "", func(e Event) bool { return e.EventID == "e1" }},
		{"escaped upper key", mod(`"event_id"`, `"\u0045VENT_ID"`), "unknown_field EVENT_ID", nil},
		{"upper location key", mod(`"city"`, `"CiTy"`), "unknown_field location.CiTy", nil},
		{"duplicate", mod(`"event_id":"e1"`, `"event_id":"e1","event_id":"e2"`), "malformed_json event_id", nil},
		{"duplicate escaped", mod(`"event_id":"e1"`, `"event_id":"e1","event\u005fid":"e1"`), "malformed_json event_id", nil},
		{"duplicate null", mod(`"event_id":"e1"`, `"event_id":"e1","event_id":null`), "malformed_json event_id", nil},
		{"duplicate in location", mod(`"city":"Los Angeles"`, `"city":"Los Angeles","city":"LA"`), "malformed_json location.city", nil},
		{"duplicate after unknown", mod(`"event_id":"e1"`, `"colour":1,"event_id":"e1","event_id":"e2"`), "unknown_field colour", nil},
		{"duplicate before unknown", mod(`"event_id":"e1"`, `"event_id":"e1","event_id":"e2","colour":1`), "malformed_json event_id", nil},
		{"location country twice", mod(`"city":"Los Angeles"`, `"country":"CN"`), "malformed_json location.country", nil},
		{"null string", mod(`"service":"economy"`, `"service":null`), "", func(e Event) bool { return e.Service == "" }},
		{"null location", mod(`{"country":"US","city":"Los Angeles","lat":33.9,"lon":-118.4}`, `null`), "", func(e Event) bool { return e.Location == nil }},
		{"location twice", mod(`"merchant":"m1"`, `"merchant":"m1","location":{"postal_code":"90045","lat":null}`), "malformed_json location", nil},
		{"location twice after null", mod(`{"country":"US","city":"Los Angeles","lat":33.9,"lon":-118.4}`, `null,"location":{}`), "malformed_json location", nil},
		{"empty location", mod(`{"country":"US","city":"Los Angeles","lat":33.9,"lon":-118.4}`, `{}`), "",
			func(e Event) bool { return e.Location != nil && *e.Location == Location{} }},
		{"empty key", mod(`"merchant":"m1"`, `"":1`), "unknown_field ", nil},
		{"quote in key", mod(`"merchant":"m1"`, `"a\"b\\c":1`), `unknown_field a\"b\\c`, nil},
		{"control in key", mod(`"merchant":"m1"`, `"a\nb\u0000":1`), `unknown_field a\nb\x00`, nil},
		{"bad utf8 key", mod(`"merchant":"m1"`, "\"a\xffb\":1"), "unknown_field a\uFFFDb", nil},
		{"location key at top", mod(`"merchant":"m1"`, `"city":"x"`), "unknown_field city", nil},
		{"top key in location", mod(`"city":"Los Angeles"`, `"merchant":"x"`), "unknown_field location.merchant", nil},
		{"location in location", mod(`"city":"Los Angeles"`, `"location":{}`), "unknown_field location.location", nil},
		{"dotted key at top", mod(`"merchant":"m1"`, `"location.city":"x"`), "unknown_field location.city", nil},

		// Strings.
		{"escapes", mod(`"Held"`, `"a\"b\\c\/d\u00e9\u4E2D\ud83d\ude00"`), "", func(e Event) bool { return e.Description == "a\"b\\c/dé中😀" }},
		{"lone high surrogate", mod(`"Held"`, `"a\ud83db"`), "", func(e Event) bool { return e.Description == "a\uFFFDb" }},
		{"lone low surrogate", mod(`"Held"`, `"a\ude00\ud83d\ude00"`), "", func(e Event) bool { return e.Description == "a\uFFFD😀" }},
		{"high then high", mod(`"Held"`, `"\ud83d\ud83d\ude00"`), "", func(e Event) bool { return e.Description == "\uFFFD😀" }},
		{"high then escape", mod(`"Held"`, `"\ud83d\n"`), "invalid_field description", nil},
		{"high at end", mod(`"Held"`, `"\ud83d"`), "", func(e Event) bool { return e.Description == "\uFFFD" }},
		{"invalid utf8", mod(`"Held"`, "\"a\xffb\xc3\""), "", func(e Event) bool { return e.Description == "a\uFFFDb\uFFFD" }},
		{"utf8 surrogate", mod(`"Held"`, "\"\xed\xa0\x80\""), "", func(e Event) bool { return e.Description == "\uFFFD\uFFFD\uFFFD" }},
		{"utf8", mod(`"Los Angeles"`, `"Montréal 上海"`), "", func(e Event) bool { return e.Location.City == "Montréal 上海" }},
		{"escaped U+FFFD", mod(`"Held"`, `"\ufffd"`), "", func(e Event) bool { return e.Description == "\uFFFD" }},
		{"escaped tracking", mod(`"LX123456789CN"`, `"LX\u0031\/2"`), "", func(e Event) bool { return e.TrackingNumber == "LX1/2" }},
		{"escaped status", mod(`"customs_held"`, `"customs\u005fheld"`), "", func(e Event) bool { return e.Status == CustomsHeld }},
		{"escaped time", mod(`"2026-09-20T00:00:00Z"`, `"2026-09-20T00:00:00\u005a"`), "", nil},
		{"escaped ampersand", mod(`"Held"`, `"Sort \u0026 Hub \u003cA\u003e"`), "", func(e Event) bool { return e.Description == "Sort & Hub <A>" }},
		{"escaped DEL", mod(`"Held"`, `"a\u007f"`), "invalid_field description", nil},
		{"escaped control in tracking", mod(`"LX123456789CN"`, `"LX\u0001"`), "invalid_field tracking_number", nil},
		{"escaped control in city", mod(`"Los Angeles"`, `"L\rA"`), "invalid_field location.city", nil},
		{"escaped long tracking", mod(`"LX123456789CN"`, `"`+strings.Repeat(`\u00e9`, 65)+`"`), "invalid_field tracking_number", nil},
		{"escaped nul", mod(`"Held"`, `"a\u0000"`), "invalid_field description", nil},
		{"escaped newline", mod(`"Held"`, `"a\nb"`), "invalid_field description", nil},
		{"escaped tab", mod(`"Held"`, `"a\tb"`), "invalid_field description", nil},
		{"raw DEL", mod(`"Held"`, "\"a\x7f\""), "invalid_field description", nil},
		{"raw newline", mod(`"Held"`, "\"a\nb\""), "malformed_json ", nil},
		{"raw tab", mod(`"Held"`, "\"a\tb\""), "malformed_json ", nil},
		{"bad escape", mod(`"Held"`, `"a\'b"`), "malformed_json ", nil},
		{"bad escape x", mod(`"Held"`, `"a\x41"`), "malformed_json ", nil},
		{"short u", mod(`"Held"`, `"a\u12"`), "malformed_json ", nil},
		{"upper U", mod(`"Held"`, `"\U0041"`), "malformed_json ", nil},
		{"unterminated", `{"event_id":"abc`, "malformed_json ", nil},
		{"unterminated escape", `{"event_id":"abc\`, "malformed_json ", nil},
		{"long description escaped", mod(`"Held"`, `"`+strings.Repeat(`\u00e9x`, 300)+`"`), "", func(e Event) bool { return len(e.Description) == 900 }},
		{"long description invalid utf8", mod(`"Held"`, "\""+strings.Repeat("\xff", 1000)+"\""), "", func(e Event) bool { return e.Description == strings.Repeat("\uFFFD", 1000) }},
		{"too long description", mod(`"Held"`, "\""+strings.Repeat("\xff", 1025)+"\""), "invalid_field description", nil},

		// Numbers.
		{"lat int", mod(`33.9`, `33`), "", func(e Event) bool { return *e.Location.Lat == 33 }},
		{"lat exp", mod(`33.9`, `3.39E1`), "", func(e Event) bool { return *e.Location.Lat == 33.9 }},
		{"lat exp sign", mod(`33.9`, `339e-1`), "", func(e Event) bool { return *e.Location.Lat == 33.9 }},
		{"lat minus zero", mod(`33.9`, `-0`), "", func(e Event) bool { return *e.Location.Lat == 0 }},
		{"lat long", mod(`33.9`, `33.900000000000000000000000000000000000000001`), "", func(e Event) bool { return *e.Location.Lat == 33.9 }},
		{"lat tiny", mod(`33.9`, `1e-400`), "", func(e Event) bool { return *e.Location.Lat == 0 }},
		{"lat huge", mod(`33.9`, `1e400`), "malformed_json ", nil},
		{"lat huge then unknown", mod(`33.9`, `1e400,"town":1`), "malformed_json ", nil},
		{"lat out of range", mod(`33.9`, `90.0000001`), "invalid_field location.lat", nil},
		{"lon out of range", mod(`-118.4`, `-180.5`), "invalid_field location.lon", nil},
		{"lat null", mod(`33.9`, `null`), "", func(e Event) bool { return e.Location.Lat == nil }},
		{"lat leading zero", mod(`33.9`, `033.9`), "malformed_json ", nil},
		{"lat plus", mod(`33.9`, `+33.9`), "malformed_json ", nil},
		{"lat dot", mod(`33.9`, `33.`), "malformed_json ", nil},
		{"lat dot first", mod(`33.9`, `.9`), "malformed_json ", nil},
		{"lat exp empty", mod(`33.9`, `33e`), "malformed_json ", nil},
		{"lat exp sign only", mod(`33.9`, `33e+`), "malformed_json ", nil},
		{"lat minus only", mod(`33.9`, `-`), "malformed_json ", nil},
		{"lat hex", mod(`33.9`, `0x10`), "malformed_json ", nil},
		{"lat NaN", mod(`33.9`, `NaN`), "malformed_json ", nil},
		{"lat string", mod(`33.9`, `"33.9"`), "malformed_json ", nil},
		{"lat bool", mod(`33.9`, `true`), "malformed_json ", nil},
		{"lat object", mod(`33.9`, `{}`), "malformed_json ", nil},

		// Wrong types and the order of saved errors.
		{"number for string", mod(`"e1"`, `1`), "malformed_json ", nil},
		{"bool for string", mod(`"e1"`, `false`), "malformed_json ", nil},
		{"array for string", mod(`"e1"`, `["e1"]`), "malformed_json ", nil},
		{"object for string", mod(`"e1"`, `{"colour":1}`), "malformed_json ", nil},
		{"string for location", mod(`{"country":"US","city":"Los Angeles","lat":33.9,"lon":-118.4}`, `"US"`), "malformed_json ", nil},
		{"array for location", mod(`{"country":"US","city":"Los Angeles","lat":33.9,"lon":-118.4}`, `[{"town":1}]`), "malformed_json ", nil},
		{"unknown then type", mod(`"event_id":"e1"`, `"colour":"red","event_id":1`), "unknown_field colour", nil},
		{"type then unknown", mod(`"event_id":"e1"`, `"event_id":1,"colour":"red"`), "malformed_json ", nil},
		{"two unknown", mod(`"event_id":"e1"`, `"colour":"red","size":1`), "unknown_field colour", nil},
		{"unknown then syntax", mod(`"event_id":"e1"`, `"colour":"red","event_id":01`), "malformed_json ", nil},
		{"unknown then trailing", good[:len(good)-1] + `,"colour":1} x`, "unknown_field colour", nil},
		{"unknown with nested value", mod(`"event_id":"e1"`, `"colour":{"a":[1,{"b":null}],"c":true}`), "unknown_field colour", nil},
		{"unknown with bad nested value", mod(`"event_id":"e1"`, `"colour":{"a":[1,{"b":nul}]}`), "malformed_json ", nil},
		{"unknown then invalid", mod(`"chinapost"`, `"ChinaPost","colour":1`), "unknown_field colour", nil},

		// Structure.
		{"empty", ``, "malformed_json ", nil},
		{"spaces", " \n\t ", "malformed_json ", nil},
		{"null", `null`, "missing_field status", nil},
		{"null spaced", " null \n", "missing_field status", nil},
		{"null trailing", `null x`, "malformed_json ", nil},
		{"null null", `nullnull`, "malformed_json ", nil},
		{"nul", `nul`, "malformed_json ", nil},
		{"empty object", `{}`, "missing_field status", nil},
		{"string", `"x"`, "malformed_json ", nil},
		{"number", `1`, "malformed_json ", nil},
		{"true", `true`, "malformed_json ", nil},
		{"array", `[]`, "malformed_json ", nil},
		{"array of event", `[` + good + `]`, "malformed_json ", nil},
		{"bom", "\xef\xbb\xbf" + good, "malformed_json ", nil},
		{"trailing space", good + " \r\n\t", "", nil},
		{"trailing object", good + `{}`, "malformed_json ", nil},
		{"trailing comma", good + `,`, "malformed_json ", nil},
		{"trailing garbage", good + ` x`, "malformed_json ", nil},
		{"trailing nul byte", good + "\x00", "malformed_json ", nil},
		{"comma before brace", `{"event_id":"x",}`, "malformed_json ", nil},
		{"leading comma", `{,"event_id":"x"}`, "malformed_json ", nil},
		{"missing colon", `{"event_id" "x"}`, "malformed_json ", nil},
		{"missing comma", `{"event_id":"x" "carrier":"y"}`, "malformed_json ", nil},
		{"unquoted key", `{event_id:"x"}`, "malformed_json ", nil},
		{"single quotes", `{'event_id':'x'}`, "malformed_json ", nil},
		{"unclosed", good[:len(good)-1], "malformed_json ", nil},
		{"unclosed location", `{"location":{"city":"x"`, "malformed_json ", nil},
		{"brace mismatch", `{"colour":[1}`, "malformed_json ", nil},
		{"bracket mismatch", `{"colour":{"a":1]}`, "malformed_json ", nil},
		{"array trailing comma", `{"colour":[1,]}`, "malformed_json ", nil},
		{"deep", `{"colour":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`, "unknown_field colour", nil},
		{"too deep", `{"colour":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, "malformed_json ", nil},
		{"too deep objects", `{"colour":` + strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000) + `}`, "malformed_json ", nil},
		{"deep in location", `{"location":{"town":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}}`, "unknown_field location.town", nil},
		{"too deep in location", `{"location":{"town":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}}`, "malformed_json ", nil},
		{"oversize", `{"event_id":"` + strings.Repeat("x", MaxEventSize) + `"}`, "oversize ", nil},
		{"oversize garbage", strings.Repeat("x", MaxEventSize+1), "oversize ", nil},
		{"max size", good[:len(good)-1] + strings.Repeat(" ", MaxEventSize-len(good)) + "}", "", nil},

		// Validation after decoding, in the order of event and Validate.
		{"missing status and time", `{"event_id":"x"}`, "missing_field status", nil},
		{"bad status before bad id", `{"status":"lost","event_id":""}`, "unknown_status status", nil},
		{"missing time", `{"status":"delivered"}`, "missing_field occurred_at", nil},
		{"bad time", `{"status":"delivered","occurred_at":"yesterday"}`, "bad_timestamp occurred_at", nil},
		{"bad promise before id", `{"status":"delivered","occurred_at":"2026-01-01T00:00:00Z","promised_at":"x"}`, "bad_timestamp promised_at", nil},
		{"missing id", `{"status":"delivered","occurred_at":"2026-01-01T00:00:00Z"}`, "missing_field event_id", nil},
		{"time with offset", mod(`2026-09-03T10:00:00+08:00`, `2026-09-03T10:00:00.123456789-03:30`), "", nil},
		{"leap day", mod(`2026-09-03T10:00:00+08:00`, `2024-02-29T00:00:00Z`), "", nil},
		{"no leap day", mod(`2026-09-03T10:00:00+08:00`, `2026-02-29T00:00:00Z`), "bad_timestamp occurred_at", nil},
		{"year one", mod(`2026-09-03T10:00:00+08:00`, `0001-01-01T00:00:00Z`), "bad_timestamp occurred_at", nil},
		{"year zero", mod(`2026-09-03T10:00:00+08:00`, `0000-01-01T00:00:00Z`), "bad_timestamp occurred_at", nil},
		{"last second", mod(`2026-09-03T10:00:00+08:00`, `2026-11-23T00:00:00Z`), "", nil},
		{"future second", mod(`2026-09-03T10:00:00+08:00`, `2026-11-23T00:00:01Z`), "future_timestamp occurred_at", nil},
		{"future nanosecond", mod(`2026-09-03T10:00:00+08:00`, `2026-11-23T00:00:00.000000001Z`), "future_timestamp occurred_at", nil},
		{"millennium", mod(`2026-09-03T10:00:00+08:00`, `2000-01-01T00:00:00Z`), "", nil},
		{"before millennium", mod(`2026-09-03T10:00:00+08:00`, `1999-12-31T23:59:59Z`), "bad_timestamp occurred_at", nil},
		{"old promise", mod(`2026-09-20T00:00:00Z`, `1999-12-31T23:59:59Z`), "bad_timestamp promised_at", nil},
		{"year one promise", mod(`2026-09-20T00:00:00Z`, `0001-01-01T00:00:00Z`), "bad_timestamp promised_at", nil},
		{"promise past 9999", mod(`2026-09-20T00:00:00Z`, `9999-12-31T23:59:59.5Z`), "bad_timestamp promised_at", nil},
		{"promise at 9999", mod(`2026-09-20T00:00:00Z`, `9999-12-31T23:59:59Z`), "", nil},
		{"second 60", mod(`2026-09-20T00:00:00Z`, `2026-09-20T00:00:60Z`), "bad_timestamp promised_at", nil},
		{"DEL in tracking", mod(`"LX123456789CN"`, "\"LX1\x7f\""), "invalid_field tracking_number", nil},
		{"128 runes", mod(`"e1"`, `"`+strings.Repeat("é", 128)+`"`), "", nil},
		{"129 runes", mod(`"e1"`, `"`+strings.Repeat("é", 129)+`"`), "invalid_field event_id", nil},
		{"64 runes", mod(`"LX123456789CN"`, `"`+strings.Repeat("中", 64)+`"`), "", nil},
		{"65 runes", mod(`"LX123456789CN"`, `"`+strings.Repeat("中", 65)+`"`), "invalid_field tracking_number", nil},
		{"U+0080", mod(`"Held"`, "\"\u0080\""), "", nil},
		{"carrier dash", mod(`"chinapost"`, `"china-post"`), "", nil},
		{"carrier dash end", mod(`"chinapost"`, `"chinapost-"`), "invalid_field carrier", nil},
		{"carrier 33", mod(`"chinapost"`, `"`+strings.Repeat("c", 33)+`"`), "invalid_field carrier", nil},
		{"time lower t", mod(`2026-09-03T10:00:00+08:00`, `2026-09-03t10:00:00z`), "",
			func(e Event) bool { return e.OccurredAt.Equal(time.Date(2026, 9, 3, 10, 0, 0, 0, time.UTC)) }},

		// The locale: valid, invalid, escaped, misplaced.
		{"locale", good, "", func(e Event) bool { return e.Locale == "en-US" && e.Merchant == "m1" }},
		{"locale as written", mod(`"en-US"`, `"EN-us"`), "", func(e Event) bool { return e.Locale == "EN-us" }},
		{"locale language only", mod(`"en-US"`, `"pt"`), "", func(e Event) bool { return e.Locale == "pt" }},
		{"locale three letters", mod(`"en-US"`, `"yue-HK"`), "", func(e Event) bool { return e.Locale == "yue-HK" }},
		{"locale script", mod(`"en-US"`, `"zh-Hant-TW"`), "", func(e Event) bool { return e.Locale == "zh-Hant-TW" }},
		{"locale digits", mod(`"en-US"`, `"es-419"`), "", func(e Event) bool { return e.Locale == "es-419" }},
		{"locale 35", mod(`"en-US"`, strconv.Quote("en"+strings.Repeat("-abcdefgh", 3)+"-abcde")), "", func(e Event) bool { return len(e.Locale) == 35 }},
		{"locale 36", mod(`"en-US"`, strconv.Quote("en"+strings.Repeat("-abcdefgh", 3)+"-abcde"+"f")), "invalid_field locale", nil},
		{"locale empty", mod(`"en-US"`, `""`), "", func(e Event) bool { return e.Locale == "" }},
		{"locale null", mod(`"en-US"`, `null`), "", func(e Event) bool { return e.Locale == "" }},
		{"locale first and last", mod(`"event_id":"e1"`, `"locale":"de-DE","event_id":"e1"`), "malformed_json locale", nil},
		{"locale before merchant", strings.Replace(mod(`,"locale":"en-US"`, ``), `"merchant"`, `"locale":"fr-CA","merchant"`, 1), "",
			func(e Event) bool { return e.Locale == "fr-CA" && e.Merchant == "m1" }},
		{"locale only", mod(`,"locale":"en-US"`, ``), "", func(e Event) bool { return e.Locale == "" }},
		{"locale underscore", mod(`"en-US"`, `"en_US"`), "invalid_field locale", nil},
		{"locale one letter", mod(`"en-US"`, `"e"`), "invalid_field locale", nil},
		{"locale four letters", mod(`"en-US"`, `"engl-US"`), "invalid_field locale", nil},
		{"locale trailing dash", mod(`"en-US"`, `"en-"`), "invalid_field locale", nil},
		{"locale empty subtag", mod(`"en-US"`, `"en--US"`), "invalid_field locale", nil},
		{"locale long subtag", mod(`"en-US"`, `"de-DE-123456789"`), "invalid_field locale", nil},
		{"locale space", mod(`"en-US"`, `"en US"`), "invalid_field locale", nil},
		{"locale edge space", mod(`"en-US"`, `" en-US"`), "invalid_field locale", nil},
		{"locale non-ASCII", mod(`"en-US"`, `"ën"`), "invalid_field locale", nil},
		{"locale fullwidth", mod(`"en-US"`, `"ｅｎ"`), "invalid_field locale", nil},
		{"locale invalid utf8", mod(`"en-US"`, "\"en-\xff\""), "invalid_field locale", nil},
		{"locale DEL", mod(`"en-US"`, "\"en\x7f\""), "invalid_field locale", nil},
		{"locale number", mod(`"en-US"`, `1`), "malformed_json ", nil},
		{"locale array", mod(`"en-US"`, `["en"]`), "malformed_json ", nil},
		{"locale escaped", mod(`"en-US"`, `"pt\u002dBR"`), "", func(e Event) bool { return e.Locale == "pt-BR" }},
		{"locale escaped solidus", mod(`"en-US"`, `"pt\/BR"`), "invalid_field locale", nil},
		{"locale escaped underscore", mod(`"en-US"`, `"en\u005fUS"`), "invalid_field locale", nil},
		{"locale escaped newline", mod(`"en-US"`, `"en\n"`), "invalid_field locale", nil},
		{"locale escaped non-ASCII", mod(`"en-US"`, `"\u00ebn"`), "invalid_field locale", nil},
		{"locale escaped key", mod(`"locale"`, `"loc\u0061le"`), "", func(e Event) bool { return e.Locale == "en-US" }},
		{"locale twice", mod(`"locale":"en-US"`, `"locale":"en-US","locale":"en-US"`), "malformed_json locale", nil},
		{"locale twice escaped", mod(`"locale":"en-US"`, `"locale":"en-US","l\u006fcale":null`), "malformed_json locale", nil},
		{"upper locale key", mod(`"locale"`, `"Locale"`), "unknown_field Locale", nil},
		{"language key", mod(`"locale"`, `"language"`), "unknown_field language", nil},
		{"locale in location", mod(`"city":"Los Angeles"`, `"locale":"en-US"`), "unknown_field location.locale", nil},
	}
}

func TestDecodeMatchesStd(t *testing.T) {
	for _, c := range decodeCases() {
		t.Run(c.name, func(t *testing.T) {
			e, err := sameAsStd(t, []byte(c.in))
			got := ""
			if err != nil {
				ie := err.(*InvalidError)
				got = string(ie.Reason) + " " + ie.Field
			}
			if got != c.want {
				t.Fatalf("got %q (%v), want %q", got, err, c.want)
			}
			if err == nil && c.check != nil && !c.check(e) {
				t.Fatalf("decoded %+v, location %+v", e, e.Location)
			}
		})
	}
}

// mutations returns variants of the valid events in docs with each field, in
// turn, removed, nulled, retyped, emptied or given tricky values.
func mutations(docs ...string) []string {
	values := []string{
		`null`, `""`, `1`, `-1.5e3`, `true`, `[]`, `{}`, `"x"`, `"X"`, `"CN"`, `"cn"`, `"delivered"`, `"4px"`,
		`"2026-01-01T00:00:00Z"`, `"1999-01-01T00:00:00Z"`, `"2099-01-01T00:00:00Z"`, `"9999-12-31T23:59:59.5Z"`, `"a\u0000"`, `"\ud800"`,
		`"é"`, "\"\xff\"", `"` + strings.Repeat("y", 129) + `"`, `{"lat":100}`, `{"lon":-200}`, `{"country":"zz"}`,
		`{"city":null,"lat":null}`, `{"postal_code":"` + strings.Repeat("1", 33) + `"}`, `{"colour":1}`,
		`"zh-Hant-TW"`, `"en_US"`, `"en-"`,
	}
	var out []string
	for _, doc := range docs {
		out = append(out, doc)
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			panic(err)
		}
		keys := slices.Sorted(maps.Keys(m))
		if loc, ok := m["location"].(map[string]any); ok {
			keys = append(keys, slices.Sorted(maps.Keys(loc))...)
		}
		for _, key := range keys {
			i := strings.Index(doc, `"`+key+`":`)
			if i < 0 {
				continue
			}
			vs := i + len(key) + 3
			ve := valueEnd(doc, vs)
			// Removed.
			rm := doc[:i] + doc[ve:]
			rm = strings.Replace(strings.Replace(rm, ",,", ",", 1), "{,", "{", 1)
			rm = strings.Replace(rm, ",}", "}", 1)
			out = append(out, rm)
			// Other values.
			for _, v := range values {
				out = append(out, doc[:vs]+v+doc[ve:])
			}
			// Renamed.
			out = append(out, doc[:i]+`"`+strings.ToUpper(key)+`":`+doc[vs:])
			out = append(out, doc[:i]+`"`+key+`x":`+doc[vs:])
			// Duplicated.
			out = append(out, doc[:ve]+`,"`+key+`":null`+doc[ve:])
			out = append(out, doc[:ve]+`,"`+key+`":"z"`+doc[ve:])
		}
	}
	return out
}

// valueEnd returns where the JSON value that starts at doc[i] ends; it
// knows just enough JSON for the test events.
func valueEnd(doc string, i int) int {
	depth, inString := 0, false
	for j := i; j < len(doc); j++ {
		c := doc[j]
		switch {
		case inString:
			if c == '\\' {
				j++
			} else if c == '"' {
				inString = false
				if depth == 0 {
					return j + 1
				}
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return j
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case c == ',' && depth == 0:
			return j
		}
	}
	return len(doc)
}

func TestDecodeMutationsMatchStd(t *testing.T) {
	for i, in := range mutations(good, typicalEvent, minimal) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { sameAsStd(t, []byte(in)) })
	}
}

// TestDecodeTruncatedMatchesStd cuts events short at every byte.
func TestDecodeTruncatedMatchesStd(t *testing.T) {
	for _, doc := range []string{good, typicalEvent} {
		for i := range len(doc) {
			sameAsStd(t, []byte(doc[:i]))
			sameAsStd(t, []byte(doc[:i]+doc[i+1:]))
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	in := []byte(typicalEvent)
	n := testing.AllocsPerRun(100, func() {
		if _, err := Decode(in, now); err != nil {
			t.Fatal(err)
		}
	})
	if n > 3 {
		t.Fatalf("%v allocations per event, want at most 3", n)
	}
	in = []byte(preAdvice)
	if n := testing.AllocsPerRun(100, func() { _, _ = Decode(in, now) }); n > 2 {
		t.Fatalf("%v allocations per pre-advice, want at most 2 (no location)", n)
	}
}

// TestDecodeNoAliasing checks that a decoded event does not share memory with
// the input, which callers reuse.
func TestDecodeNoAliasing(t *testing.T) {
	in := []byte(typicalEvent)
	e, err := Decode(in, now)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := e.Marshal()
	for i := range in {
		in[i] = 'x'
	}
	if got, _ := e.Marshal(); !bytes.Equal(got, want) {
		t.Fatalf("event changed with its input:\n%s\n%s", got, want)
	}
}

func FuzzDecodeMatchesStd(f *testing.F) {
	for _, in := range mutations(good, typicalEvent, minimal) {
		f.Add([]byte(in))
	}
	for _, in := range []string{
		`null`, `{}`, `{"location":{"lat":1e400}}`, `{"Event_ID":"a","event_id":null}`,
		`{"trac\u212Aing_number":"x","location":null,"location":{"lat":-0}}`,
		`{"description":"\ud83d\ude00\ud83d\u0041\\\"\/\b\f\n\r\t","colour":[{}]}`,
		"{\"carrier\":\"a\xff\",\"\xfe\":1}", good + ` `, good + `x`,
	} {
		f.Add([]byte(in))
	}
	// Random bytes seldom make an event valid enough to reach the later
	// checks, so each input is also tried inside a valid event: as the text
	// of a string, as a value and as a key.
	type splice struct{ before, after string }
	var splices []splice
	for _, at := range []string{`"e1"`, `"LX123456789CN"`, `"customs_held"`, `"Held"`, `"2026-09-03T10:00:00+08:00"`,
		`"2026-09-20T00:00:00Z"`, `"Los Angeles"`, `33.9`, `{"country":"US","city":"Los Angeles","lat":33.9,"lon":-118.4}`, `"en-US"`} {
		i := strings.Index(good, at)
		splices = append(splices, splice{good[:i], good[i+len(at):]})
		if at[0] == '"' {
			splices = append(splices, splice{good[:i+1], good[i+len(at)-1:]})
		}
	}
	i := strings.Index(good, `"merchant"`)
	splices = append(splices, splice{good[:i] + `"`, good[i+len(`"merchant"`)-1:]})
	i = strings.Index(good, `"locale"`)
	splices = append(splices, splice{good[:i] + `"`, good[i+len(`"locale"`)-1:]})
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsStd(t, b)
		for _, s := range splices {
			sameAsStd(t, []byte(s.before+string(b)+s.after))
		}
	})
}

// TestParseRFC3339MatchesParse checks parseRFC3339 against time.Parse on
// the strings where RFC 3339 and time.Parse agree, and by hand where they do
// not.
func TestParseRFC3339MatchesParse(t *testing.T) {
	check := func(s string) {
		t.Helper()
		got, ok := parseRFC3339(s)
		want, err := time.Parse(time.RFC3339Nano, s)
		if ok != (err == nil) || ok && !reflect.DeepEqual(got, want.UTC()) {
			t.Fatalf("%q: got %v %v, want %v %v", s, got, ok, want.UTC(), err)
		}
	}
	for d := time.Date(1998, 12, 25, 0, 0, 0, 0, time.UTC); d.Year() < 2102; d = d.Add(24*time.Hour + 7*time.Second) {
		check(d.Format("2006-01-02T15:04:05Z"))
		check(d.Format("2006-01-02T15:04:05.999999999-07:00"))
		check(d.In(time.FixedZone("", 5*3600+45*60)).Format(time.RFC3339Nano))
	}
	for _, s := range []string{
		"0000-01-01T00:00:00Z", "0000-03-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z",
		"2000-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-02-29T00:00:00Z", "2024-02-29T12:00:00Z", "2026-04-31T00:00:00Z",
		"2026-00-10T00:00:00Z", "2026-13-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-01T24:00:00Z",
		"2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "2026-01-01 00:00:00Z", "2026-1-01T00:00:00Z", "2026-01-01T00:00:00",
		"2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00-00:00", "2026-01-01T00:00:00.5Z", "+026-01-01T00:00:00Z",
		"-026-01-01T00:00:00Z", "2026-01-01T0a:00:00Z", "２026-01-01T00:00:00Z", "2026/01/01T00:00:00Z", "",
		"2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.123456789123Z", "2026-01-01T00:00:00.000000000000000000001Z",
		"2026-01-01T00:00:00+23:59", "2026-01-01T00:00:00-23:59", "2026-01-01T00:00:00+0000", "2026-01-01T00:00:00+00",
		"2026-01-01T00:00:00+01:00:00", "2026-01-01T00:00:00Z ", " 2026-01-01T00:00:00Z", "2026-01-01T00:00:00UTC",
		"2026-01-01T00:00:00.５Z", "2026-01-01T00:00:00.-1Z", "2026-01-01T00:00:00+-1:00", "2026-01-01T00:00:00+1:00",
	} {
		check(s)
	}
	// Where RFC 3339 and time.Parse part: hand-written answers.
	for s, want := range map[string]time.Time{
		"2026-03-01t10:00:00z":            time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		"2026-03-01t10:00:00Z":            time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		"2026-03-01T10:00:00z":            time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		"2026-03-01t10:00:00.25+01:00":    time.Date(2026, 3, 1, 9, 0, 0, 250e6, time.UTC),
		"2026-01-01T00:00:00,5Z":          {}, // comma: time.Parse takes it
		"2026-01-01T0:00:00Z":             {}, // one-digit hour: time.Parse takes it
		"2026-01-01T00:00:00+24:00":       {}, // offset hour 24: time.Parse takes it
		"2026-01-01T00:00:00+00:60":       {}, // offset minute 60: time.Parse takes it
		"2026-01-01T00:00:00+99:00":       {},
		"2026-01-01T00:00:00Zz":           {},
		"2026-01-01T00:00:00zZ":           {},
		"2026-01-01T00:00:00.1z":          time.Date(2026, 1, 1, 0, 0, 0, 1e8, time.UTC),
		"2026-01-01T00:00:00.9999999999Z": time.Date(2026, 1, 1, 0, 0, 0, 999999999, time.UTC),
	} {
		got, ok := parseRFC3339(s)
		if ok != !want.IsZero() || !reflect.DeepEqual(got, want) && ok {
			t.Errorf("%q: got %v %v, want %v", s, got, ok, want)
		}
	}
}

func TestParseSimpleFloatMatchesParseFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(s string) {
		t.Helper()
		got, ok := parseSimpleFloat([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if ok && (err != nil || math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("%q: got %v, want %v %v", s, got, want, err)
		}
	}
	for _, s := range []string{"0", "-0", "0.0", "-0.000", "1", "90", "-180", "33.9", "-118.4", "52.831", "0.1", "0.3",
		"999999999999999", "9999999999999999", "0.000000000000001", "1234567.89012345", "-0.0000000000000000000001"} {
		check(s)
	}
	for range 200000 {
		var sb strings.Builder
		if r.IntN(2) == 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(strconv.Itoa(r.IntN(1000)))
		if n := r.IntN(14); n > 0 {
			sb.WriteByte('.')
			for range n {
				sb.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		check(sb.String())
	}
}

// TestDecodeZeroNow checks that a zero clock skips the future check, as in
// Validate.
func TestDecodeZeroNow(t *testing.T) {
	in := []byte(strings.Replace(good, `2026-09-03T10:00:00+08:00`, `2999-01-01T00:00:00Z`, 1))
	e, err := decodeFast(in, time.Time{})
	se, serr := decodeStd(in, time.Time{})
	if err != nil || serr != nil || !reflect.DeepEqual(e, se) {
		t.Fatalf("fast %v %v, std %v %v", e, err, se, serr)
	}
	if _, err := decodeFast(in, now); ReasonOf(err) != ReasonFutureTime {
		t.Fatalf("with a clock: %v", err)
	}
}

// TestFastEventFollowsValidate checks fastEvent against rawEvent.event,
// which it stands in for, field by field with values on either side of
// every rule, for strings of valid UTF-8 without control characters (the
// only ones Decode gives it).
func TestFastEventFollowsValidate(t *testing.T) {
	texts := []string{"", "x", "X", "CN", "cn", "C", "CNN", "4px", "dhl", "-dhl", "dhl-", "d_h", "d h", "中", "Montréal",
		"delivered", "Delivered", "unknown", "customs_held", " x", "x ", "x\u00a0", "\u3000x", "x y", "\ufeffx", "\u0085x",
		"en-US", "EN-us", "yue-HK", "zh-Hant-TW", "es-419", "en-", "-en", "en--US", "en_US", "engl", "e-US", "en-abcdefgh",
		"en-abcdefghi", "ën", "en" + strings.Repeat("-abcdefgh", 3) + "-abcde", "en" + strings.Repeat("-abcdefgh", 3) + "-abcdef"}
	for _, n := range []int{2, 3, 32, 33, 64, 65, 128, 129, 1024, 1025} {
		texts = append(texts, strings.Repeat("a", n), strings.Repeat("é", n), strings.Repeat("中", n-1)+"ab")
	}
	times := []string{"", "bad", "2026-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "1999-12-31T23:59:59.999999999Z",
		"2000-01-01T00:00:00Z", "2000-01-01T00:00:00+00:01", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z", "9999-12-31T23:59:59.5Z", "9999-12-31T23:00:00-01:00", "2026-11-23T00:00:00Z",
		"2026-11-23T00:00:00.000000001Z", "2026-11-23T01:00:00+01:00", "2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z",
		"2026-09-03T10:00:00+08:00", "2026-09-03T10:00:00.123Z", "2026-09-03t10:00:00z", "2026-09-03T10:00:00,5Z"}
	f := func(v float64) *float64 { return &v }
	locations := []*Location{nil, {}, {Country: "US"}, {Country: "us"}, {Country: "USA"}, {City: strings.Repeat("é", 128)},
		{City: strings.Repeat("é", 129)}, {PostalCode: strings.Repeat("1", 32)}, {PostalCode: strings.Repeat("1", 33)},
		{Lat: f(90), Lon: f(-180)}, {Lat: f(-90), Lon: f(180)}, {Lat: f(90.0000001)}, {Lat: f(-90.0000001)},
		{Lon: f(180.0000001)}, {Lon: f(-180.0000001)}, {Lat: f(math.NaN())}, {Lon: f(math.NaN())}, {Lat: f(math.Inf(1))},
		{Lon: f(math.Inf(-1))}, {Lat: f(0), Lon: f(0)}, {City: " LA ", PostalCode: " 9 "}}
	var base rawEvent
	for f, v := range map[int]string{fEventID: "e1", fTrackingNumber: "LX1", fCarrier: "chinapost", fService: "economy",
		fOriginCountry: "CN", fDestinationCountry: "US", fStatus: "customs_held", fCarrierStatus: "I", fDescription: "Held",
		fOccurredAt: "2026-09-03T10:00:00Z", fPromisedAt: "2026-09-20T00:00:00Z", fMerchant: "m1", fLocale: "en-US"} {
		base.s[f] = v
	}
	withLocation := func(r rawEvent, l *Location) rawEvent {
		if l != nil {
			l2 := *l
			l = &l2
			r.s[fLocCountry], r.s[fLocCity], r.s[fLocPostalCode] = l.Country, l.City, l.PostalCode
		}
		r.loc = l
		return r
	}
	base = withLocation(base, &Location{Country: "US", City: "LA", Lat: f(33.9), Lon: f(-118.4)})
	var cases []rawEvent
	for field := range fLocCountry {
		vals := texts
		if field == fOccurredAt || field == fPromisedAt {
			vals = times
		}
		for _, v := range vals {
			r := base
			r.s[field] = v
			cases = append(cases, r)
		}
	}
	for _, l := range locations {
		cases = append(cases, withLocation(base, l))
	}
	for _, r := range cases {
		r.measure()
		for _, now := range []time.Time{now, {}} {
			fe, ok := fastEvent(&r, now)
			e, err := r.event(now)
			if ok != (err == nil) || ok && !reflect.DeepEqual(fe, e) {
				t.Errorf("now %v, %q, location %+v:\nfastEvent %v %+v\nevent     %v %+v", now, r.s, r.loc, ok, fe, err, e)
			}
		}
	}
}
