package schemas

import (
	"math"
	"math/bits"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds the one table of the event's fields and their rules.
// Validate, the decoder's fast path and event.schema.json (through
// EventJSONSchema) are all built from it: a rule changed here changes all
// three, and TestEventSchemaFile fails until the file is regenerated with
// `go generate ./schemas`.

//go:generate go run ./internal/genschema -o event.schema.json

// Format is the rule a field's value follows beyond its JSON type and length.
type Format uint8

// The formats of the fields of Fields.
const (
	// FormatNone adds no rule: the location object and the coordinates,
	// whose bounds are Field.Min and Field.Max.
	FormatNone Format = iota
	// FormatText is free text: any characters but the control characters
	// U+0000-U+001F and U+007F.
	FormatText
	// FormatKey is FormatText without white space (Unicode White_Space) at
	// its start or end, for the values that identify an event or a shipment:
	// " LX1" would otherwise be a second shipment beside "LX1".
	FormatKey
	// FormatCarrier is a carrier code: lower-case ASCII letters, digits, '-'
	// and '_', starting and ending with a letter or digit (dhl, 4px,
	// china-post). The set of carriers is open.
	FormatCarrier
	// FormatCountry is an ISO 3166-1 alpha-2 code in upper case (CN, US).
	FormatCountry
	// FormatStatus is one of the codes of Statuses.
	FormatStatus
	// FormatTime is an RFC 3339 date-time (section 5.6), with T and Z in
	// either case, from 2000-01-01T00:00:00Z to 9999-12-31T23:59:59Z, and
	// without a leap second (:60), which Go's time cannot hold. Decode keeps
	// the instant: 2026-03-01t10:00:00z and 2026-03-01T11:00:00+01:00 both
	// become 2026-03-01T10:00:00Z, as Marshal writes it.
	FormatTime
	// FormatLocale is a BCP 47 language tag as browsers and shop systems
	// send it (en, zh-CN, pt-BR, zh-Hant-TW, es-419): a primary language
	// subtag of two or three ASCII letters, then subtags of one to eight
	// ASCII letters or digits, each after a '-'. Letters may be in either
	// case, and Decode keeps them as written; Language gives the primary
	// language in lower case.
	FormatLocale
)

var formatNames = [...]string{FormatNone: "none", FormatText: "text", FormatKey: "key", FormatCarrier: "carrier",
	FormatCountry: "country", FormatStatus: "status", FormatTime: "time", FormatLocale: "locale"}

// String returns the format's name, e.g. "carrier".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "unknown"
}

// Field is one field of the canonical event (DESIGN section 2) with its
// rules.
type Field struct {
	// Path is the field's JSON key, with "location." before the keys of the
	// location object: "location.city".
	Path string
	// Type is the JSON type of the field's value: "string", "number" or
	// "object".
	Type string
	// Required fields must be present, and neither null nor "". An optional
	// field may be left out, null or (a string) "": all three mean absent.
	Required bool
	// MaxLen is the most characters (Unicode code points) a string may
	// have; 0 for no limit but the event's size.
	MaxLen int
	// Format is the rule a string follows beyond its length.
	Format Format
	// Min and Max bound a number, inclusive.
	Min, Max float64
	// MaxAhead is how far past the receiver's clock a time may lie; 0 for
	// no limit.
	MaxAhead time.Duration
	// Description is the field's text in the JSON Schema.
	Description string
}

// The fields, indexes of fields: the strings first (also the status and the
// times, as text), then the others.
const (
	fEventID = iota
	fTrackingNumber
	fCarrier
	fService
	fOriginCountry
	fDestinationCountry
	fStatus
	fCarrierStatus
	fDescription
	fOccurredAt
	fPromisedAt
	fMerchant
	fLocale
	fLocCountry
	fLocCity
	fLocPostalCode
	numStrFields
)

// The fields that are not strings.
const (
	fLocation = numStrFields + iota
	fLat
	fLon
	numFields
)

// fUnknown stands for a key that is no field.
const fUnknown = numFields

// fields is the table; see the top of this file.
var fields = [numFields]Field{
	fEventID: {Path: "event_id", Type: "string", Required: true, MaxLen: 128, Format: FormatKey,
		Description: "Dedup key: the same id is the same event."},
	fTrackingNumber: {Path: "tracking_number", Type: "string", Required: true, MaxLen: 64, Format: FormatKey,
		Description: "The shipment's tracking number; the Kafka key."},
	fCarrier: {Path: "carrier", Type: "string", Required: true, MaxLen: 32, Format: FormatCarrier,
		Description: "Lower-case carrier code (open set): dhl, fedex, ups, usps, chinapost, ems, cainiao, yunexpress, 4px, yanwen, ..."},
	fService: {Path: "service", Type: "string", MaxLen: 32, Format: FormatText,
		Description: "Service level: express, standard, economy, ..."},
	fOriginCountry: {Path: "origin_country", Type: "string", MaxLen: 2, Format: FormatCountry,
		Description: "ISO 3166-1 alpha-2 code, upper case; with destination_country it makes the lane (CN-US) of lane metrics."},
	fDestinationCountry: {Path: "destination_country", Type: "string", MaxLen: 2, Format: FormatCountry,
		Description: "ISO 3166-1 alpha-2 code, upper case."},
	fStatus: {Path: "status", Type: "string", Required: true, Format: FormatStatus,
		Description: "Canonical status."},
	fCarrierStatus: {Path: "carrier_status", Type: "string", MaxLen: 128, Format: FormatText,
		Description: "The carrier's raw status code."},
	fDescription: {Path: "description", Type: "string", MaxLen: 1024, Format: FormatText,
		Description: "The carrier's raw text."},
	fOccurredAt: {Path: "occurred_at", Type: "string", Required: true, Format: FormatTime, MaxAhead: MaxFutureSkew,
		Description: "When the scan happened (event time); at most 24 hours past the receiver's clock."},
	fPromisedAt: {Path: "promised_at", Type: "string", Format: FormatTime,
		Description: "Delivery deadline promised to the buyer; the value on the latest event (by occurred_at) wins."},
	fMerchant: {Path: "merchant", Type: "string", MaxLen: 64, Format: FormatText,
		Description: "Tenant or merchant id."},
	fLocale: {Path: "locale", Type: "string", MaxLen: 35, Format: FormatLocale,
		Description: "The customer's preferred language as a BCP 47 tag: en, zh-CN, pt-BR, de-DE, ...; 2-35 characters, kept as written (no case folding)."},
	fLocCountry: {Path: "location.country", Type: "string", MaxLen: 2, Format: FormatCountry,
		Description: "ISO 3166-1 alpha-2 code, upper case."},
	fLocCity:       {Path: "location.city", Type: "string", MaxLen: 128, Format: FormatText},
	fLocPostalCode: {Path: "location.postal_code", Type: "string", MaxLen: 32, Format: FormatText},
	fLocation: {Path: "location", Type: "object",
		Description: "Where the scan happened; every field is optional."},
	fLat: {Path: "location.lat", Type: "number", Min: -90, Max: 90, Description: "Latitude in degrees."},
	fLon: {Path: "location.lon", Type: "number", Min: -180, Max: 180, Description: "Longitude in degrees."},
}

// wireOrder lists the fields in the order Marshal writes them, each object
// before its fields.
var wireOrder = [numFields]int{fEventID, fTrackingNumber, fCarrier, fService, fOriginCountry, fDestinationCountry,
	fStatus, fCarrierStatus, fDescription, fOccurredAt, fLocation, fLocCountry, fLocCity, fLocPostalCode, fLat, fLon,
	fPromisedAt, fMerchant, fLocale}

// Fields returns the fields of the canonical event and of its location, with
// their rules, in the order Marshal writes them. The slice is the caller's.
func Fields() []Field {
	out := make([]Field, 0, numFields)
	for _, f := range wireOrder {
		out = append(out, fields[f])
	}
	return out
}

// jsonKey returns the JSON key of field f within its object.
func jsonKey(f int) string {
	p := fields[f].Path
	if isLocationField(f) {
		return p[len("location."):]
	}
	return p
}

// isLocationField reports whether field f belongs to the location object.
func isLocationField(f int) bool { return f >= fLocCountry && f != fLocation }

// topKeys and locKeys map a key of the event object, and of the
// location object, to its field.
var topKeys, locKeys = func() (top, loc map[string]int) {
	top, loc = map[string]int{}, map[string]int{}
	for f := range numFields {
		if isLocationField(f) {
			loc[jsonKey(f)] = f
		} else {
			top[jsonKey(f)] = f
		}
	}
	return top, loc
}()

// exactField returns the field that key (unescaped) sets, or fUnknown. Keys
// match field names exactly: "Event_ID" is an unknown field.
func exactField(key []byte, inLoc bool) int {
	m := topKeys
	if inLoc {
		m = locKeys
	}
	if f, ok := m[string(key)]; ok {
		return f
	}
	return fUnknown
}

// The rules of the string fields that the decoder's fast path needs, taken
// from fields: their MaxLen (math.MaxInt32 for no limit), the fields that
// must not be "" and those with a format to check, as bit sets (1<<f). The
// status and the times are left out; their parsers check them.
var textMaxLen, requiredTexts, formattedTexts = func() (max [numStrFields]int32, required, formatted uint32) {
	for f := range numStrFields {
		fd := &fields[f]
		max[f] = math.MaxInt32
		if fd.MaxLen > 0 {
			max[f] = int32(fd.MaxLen)
		}
		switch fd.Format {
		case FormatStatus, FormatTime, FormatText:
		default:
			formatted |= 1 << f
		}
		if fd.Required && fd.Format != FormatStatus && fd.Format != FormatTime {
			required |= 1 << f
		}
	}
	return max, required, formatted
}()

// textsOK is checkText on the strings of r but the status and the times,
// for valid UTF-8 strings without control characters (the only ones the
// decoder's fast path has), true when all pass.
func (r *rawEvent) textsOK() bool {
	if r.filled&requiredTexts != requiredTexts {
		return false
	}
	for m := r.long; m != 0; m &= m - 1 {
		f := bits.TrailingZeros32(m)
		if utf8.RuneCountInString(r.s[f]) > int(textMaxLen[f]) {
			return false
		}
	}
	for m := r.filled & formattedTexts; m != 0; m &= m - 1 {
		f := bits.TrailingZeros32(m)
		v := r.s[f]
		switch fields[f].Format {
		case FormatKey:
			if edgeSpace(v) {
				return false
			}
		case FormatCarrier:
			if !isCarrierCode(v) {
				return false
			}
		case FormatCountry:
			if !isCountry(v) {
				return false
			}
		case FormatLocale:
			if !isLocale(v) {
				return false
			}
		}
	}
	return true
}

// checkText checks the value v of string field f (not a status or time),
// where "" is absent.
func checkText(f int, v string) *InvalidError {
	fd := &fields[f]
	if v == "" {
		if fd.Required {
			return invalid(ReasonMissingField, fd.Path, "required")
		}
		return nil
	}
	if !utf8.ValidString(v) {
		return invalid(ReasonInvalidField, fd.Path, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); fd.MaxLen > 0 && n > fd.MaxLen {
		return invalid(ReasonInvalidField, fd.Path, "%d characters, more than %d", n, fd.MaxLen)
	}
	for _, r := range v {
		if isControl(r) {
			return invalid(ReasonInvalidField, fd.Path, "contains control character %U", r)
		}
	}
	switch fd.Format {
	case FormatKey:
		if edgeSpace(v) {
			return invalid(ReasonInvalidField, fd.Path, "%q starts or ends with white space; send it trimmed", v)
		}
	case FormatCarrier:
		if !isCarrierCode(v) {
			return invalid(ReasonInvalidField, fd.Path, "%q is not a lowercase carrier code such as dhl, 4px or chinapost", v)
		}
	case FormatCountry:
		if !isCountry(v) {
			return invalid(ReasonInvalidField, fd.Path, "%q is not an upper-case ISO 3166-1 alpha-2 code such as CN", v)
		}
	case FormatLocale:
		if !isLocale(v) {
			return invalid(ReasonInvalidField, fd.Path, "%q is not a BCP 47 language tag such as en, zh-CN or pt-BR "+
				"(2-3 letters, then '-' and 1-8 letters or digits per subtag)", v)
		}
	}
	return nil
}

// checkNumber checks the value of number field f.
func checkNumber(f int, v float64) *InvalidError {
	fd := &fields[f]
	if !(v >= fd.Min && v <= fd.Max) { // also rejects NaN
		return invalid(ReasonInvalidField, fd.Path, "%g is outside [%g, %g]", v, fd.Min, fd.Max)
	}
	return nil
}

// isControl reports whether r is a control character FormatText refuses.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// edgeSpace reports whether s starts or ends with white space. An ASCII
// byte above the space is never white space, and the usual case.
func edgeSpace(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; c <= ' ' || c >= utf8.RuneSelf {
		if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) {
			return true
		}
	}
	if c := s[len(s)-1]; c <= ' ' || c >= utf8.RuneSelf {
		r, _ := utf8.DecodeLastRuneInString(s)
		return unicode.IsSpace(r)
	}
	return false
}

// isCarrierCode checks FormatCarrier but for the length.
func isCarrierCode(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return s != ""
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// isLocale checks FormatLocale but for the length: the pattern
// ^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$.
func isLocale(s string) bool {
	i := 0
	for i < len(s) && isASCIILetter(s[i]) {
		i++
	}
	if i < 2 || i > 3 {
		return false
	}
	for i < len(s) {
		if s[i] != '-' {
			return false
		}
		i++
		start := i
		for i < len(s) && (isASCIILetter(s[i]) || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if n := i - start; n < 1 || n > 8 {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// The bounds of FormatTime.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	// maxTime keeps times within what RFC 3339 (four-digit years) can write
	// in UTC.
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// parseTime parses the value v (not "") of time field f and checks that it
// lies within the bounds of FormatTime.
func parseTime(f int, v string) (time.Time, *InvalidError) {
	t, ok := parseRFC3339(v)
	if !ok {
		return time.Time{}, invalid(ReasonBadTimestamp, fields[f].Path, "%q is not an RFC 3339 time such as 2026-05-01T08:30:00Z", v)
	}
	if err := checkTime(f, t, time.Time{}); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// checkTime checks t, the value of time field f, against the bounds of
// FormatTime and, unless now is zero, against the field's MaxAhead.
func checkTime(f int, t, now time.Time) *InvalidError {
	fd := &fields[f]
	if t.Before(minTime) {
		return invalid(ReasonBadTimestamp, fd.Path, "%s is before 2000-01-01", t.Format(time.RFC3339))
	}
	if fd.MaxAhead > 0 && !now.IsZero() && t.After(now.Add(fd.MaxAhead)) {
		return invalid(ReasonFutureTime, fd.Path, "%s is more than %s in the future", t.Format(time.RFC3339), fd.MaxAhead)
	}
	if t.After(maxTime) {
		return invalid(ReasonBadTimestamp, fd.Path, "%s is after 9999-12-31", t.Format(time.RFC3339))
	}
	return nil
}

// The bounds of FormatTime in Unix seconds, for the fast path.
var minUnix, maxUnix = minTime.Unix(), maxTime.Unix()

// unixOK is checkTime without the error, for the instant sec, nsec
// (0 <= nsec < 1e9) from rfc3339Unix.
func unixOK(f int, sec, nsec int64, now time.Time) bool {
	if sec < minUnix || sec > maxUnix || sec == maxUnix && nsec > 0 {
		return false
	}
	if ahead := fields[f].MaxAhead; ahead != 0 && !now.IsZero() {
		limit := now.Add(ahead)
		ls := limit.Unix()
		return sec < ls || sec == ls && nsec <= int64(limit.Nanosecond())
	}
	return true
}

// parseRFC3339 parses an RFC 3339 date-time as FormatTime describes it,
// grammar only (years 0000 to 9999), into UTC:
//
//	YYYY-MM-DD ("T" / "t") hh:mm:ss ["." 1*DIGIT] ("Z" / "z" / ("+" / "-") hh:mm)
//
// with hh 00-23, mm and ss 00-59 and a day that the month has. It is
// stricter than time.Parse(time.RFC3339, s), which also takes a comma before
// the fraction, one-digit hours and offsets such as +24:00, and does not
// take a lower-case t or z. Digits of the fraction past nanoseconds are
// dropped.
func parseRFC3339(s string) (time.Time, bool) {
	sec, nsec, ok := rfc3339Unix(s)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(sec, nsec).UTC(), true
}

// rfc3339Unix is parseRFC3339 giving Unix seconds and nanoseconds.
func rfc3339Unix(s string) (sec, nsec int64, ok bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != 't' ||
		s[13] != ':' || s[16] != ':' {
		return 0, 0, false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, false
		}
	}
	num2 := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	year, month, day := num2(0)*100+num2(2), num2(5), num2(8)
	hour, minute, second := num2(11), num2(14), num2(17)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || second > 59 {
		return 0, 0, false
	}
	i := 19
	if s[i] == '.' {
		i++
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if i-start < 9 {
				nsec = nsec*10 + int64(s[i]-'0')
			}
		}
		if i == start {
			return 0, 0, false
		}
		for n := i - start; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0
	switch rest := s[i:]; {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		for _, j := range [...]int{1, 2, 4, 5} {
			if rest[j] < '0' || rest[j] > '9' {
				return 0, 0, false
			}
		}
		oh, om := int(rest[1]-'0')*10+int(rest[2]-'0'), int(rest[4]-'0')*10+int(rest[5]-'0')
		if oh > 23 || om > 59 {
			return 0, 0, false
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, 0, false
	}
	// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard
	// Hinnant's days_from_civil).
	y := year
	if month <= 2 {
		y--
	}
	era := y / 400 // y >= -1, and y = -1 is handled by the floor below
	if y < 0 {
		era = -1
	}
	yoe := y - era*400
	mp := (month + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era)*146097 + int64(doe) - 719468
	return days*86400 + int64(hour*3600+minute*60+second-offset), nsec, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
