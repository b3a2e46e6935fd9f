package schemas

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the event decoder: a hand-written, single-pass JSON parser
// for the one object shape of the canonical event. It accepts and rejects
// exactly what decodeStd (a reference on encoding/json's tokenizer, in the
// tests) does and builds the same Event; FuzzDecodeMatchesStd checks that.
// What it does with the JSON itself:
//
//   - A syntax error anywhere in the first JSON value wins over every other
//     problem, and nesting deeper than 10000 arrays/objects is a syntax
//     error (both as in encoding/json).
//   - Then the first "saved" error in document order: a JSON value of the
//     wrong type for a field (malformed_json), an unknown key
//     (unknown_field, Field = the key's path as fmt's %q prints it, without
//     the quotes: "colour", "location.street") or a repeated key
//     (malformed_json, Field = its path). Decoding goes on after each, so a
//     later syntax error still wins.
//   - Then non-space bytes after the object (malformed).
//   - Keys are unescaped and must then equal a field name exactly.
//   - null for a field is the field left out.
//   - A top-level null decodes to the empty event (which then fails
//     validation as missing status); any other non-object is malformed.
//   - Strings: the escapes \" \\ \/ \b \f \n \r \t \uXXXX; a surrogate \u
//     escape that does not pair with the next \u escape becomes U+FFFD; every
//     byte of invalid UTF-8 becomes U+FFFD; raw bytes below 0x20 are syntax
//     errors, raw 0x7f is accepted (and later rejected by Validate).
//   - lat/lon: any JSON number, converted by strconv.ParseFloat; one out of
//     float64 range (1e400) is malformed.
//
// Speed: a valid event takes one pass over the input (quickest with keys in
// Marshal's order) plus fastEvent, which checks the rules of the field table
// knowing that every string is valid UTF-8 (unquoting makes it so) and, as
// checked on the way, free of control characters; times are parsed by
// parseRFC3339, without time.Parse. An event with a control character, and
// every invalid event, goes through rawEvent.event and Validate themselves,
// so errors are theirs.
//
// Allocation: the event's strings that need no unquoting (and the status and
// time texts) share one allocation, those that do share another;
// tracking_number gets its own small one because it is the string callers
// keep longest (the processor's state map), and it should not pin the
// description and the rest of the event in memory. Location, lat and lon
// share one more. The usual event takes three allocations, two without a
// location. Nothing refers to the input after Decode returns.

// maxJSONDepth is encoding/json's limit on nested arrays and objects.
const maxJSONDepth = 10000

// rawString is where a string value lies in the input: the bytes between
// the quotes.
type rawString struct{ start, end int }

// eventDecoder is the state of one decodeFast call; it lives on the stack.
type eventDecoder struct {
	b     []byte
	pos   int
	depth int // arrays and objects open at pos

	str            [numStrFields]rawString
	set            uint32 // bit 1<<f: str[f] holds a value
	seen           uint32 // bit 1<<f: the key of field f came
	slow           uint32 // bit 1<<f: str[f] has escapes or invalid UTF-8
	odd            bool   // a string has a control character, raw or escaped
	loc            bool   // location is non-nil
	hasLat, hasLon bool
	lat, lon       float64

	// saved is the first error to report once the whole value is known to
	// be JSON: a type mismatch, an unknown or a repeated key.
	saved *InvalidError
}

// locationBlock puts a location and its coordinates in one allocation.
type locationBlock struct {
	loc      Location
	lat, lon float64
}

// decodeFast is Decode; see the comment at the top of this file.
func decodeFast(b []byte, now time.Time) (Event, error) {
	if len(b) > MaxEventSize {
		return Event{}, invalid(ReasonOversize, "", "event is %d bytes, more than the limit of %d", len(b), MaxEventSize)
	}
	d := eventDecoder{b: b}
	if err := d.top(); err != nil {
		return Event{}, err
	}
	if d.saved != nil {
		return Event{}, d.saved
	}
	d.skipSpace()
	if d.pos < len(d.b) {
		return Event{}, d.syntax("trailing data after the event object")
	}
	var r rawEvent
	d.raw(&r)
	if !d.odd {
		if e, ok := fastEvent(&r, now); ok {
			return e, nil
		}
	}
	// Invalid, or unusual: let the checks themselves say what is wrong.
	return r.event(now)
}

// top decodes the top-level value.
func (d *eventDecoder) top() *InvalidError {
	d.skipSpace()
	if d.pos >= len(d.b) {
		return invalid(ReasonMalformed, "", "cannot parse JSON: empty input")
	}
	switch d.b[d.pos] {
	case '{':
		return d.object(false)
	case 'n':
		// Like encoding/json, a top-level null is the empty event.
		return d.literal("null")
	}
	c := d.b[d.pos]
	if err := d.skipValue(); err != nil {
		return err
	}
	return invalid(ReasonMalformed, "", "cannot parse JSON: the event is %s, not an object", kindOf(c))
}

// object decodes the event object (or the location object when inLocation)
// that starts at d.pos. It keeps its place in i, and in d.pos only while
// other methods run.
func (d *eventDecoder) object(inLocation bool) *InvalidError {
	if err := d.open(); err != nil {
		return err
	}
	b := d.b
	i := skipSpace(b, d.pos)
	if i < len(b) && b[i] == '}' {
		d.pos = i + 1
		d.depth--
		return nil
	}
	order := eventKeys[:]
	if inLocation {
		order = locationKeys[:]
	}
	next := 0 // the index in order of the key likely to come next
	for {
		if i >= len(b) || b[i] != '"' {
			d.pos = i
			return d.syntax("want a string key")
		}
		i++
		// Most keys come in the order Marshal writes them, some left out.
		f := fUnknown
		for k := next; k < len(order) && k < next+3; k++ {
			if order[k].at(b, i) {
				i += len(order[k].name) + 1
				f, next = order[k].f, k+1
				break
			}
		}
		var key []byte
		var flags uint8
		if f == fUnknown {
			j, fl, msg := scanString(b, i)
			if msg != "" {
				d.pos = j
				return d.syntax(msg)
			}
			key, flags, i = b[i:j-1], fl, j
			f = lookupField(key, flags&strSlow != 0, inLocation)
		}
		// f < 32: a bit each, and one for the unknown keys.
		if bit := uint32(1) << (uint(f) & 31); d.seen&bit == 0 {
			d.seen |= bit
		} else if f != fUnknown {
			d.repeated(f)
		}
		if i < len(b) && b[i] == ':' {
			i++
		} else if i = skipSpace(b, i); i < len(b) && b[i] == ':' {
			i++
		} else {
			d.pos = i
			return d.syntax("want : after an object key")
		}
		i = skipSpace(b, i)
		if f < numStrFields && i < len(b) && b[i] == '"' {
			// The usual case, without a method call.
			j, fl, msg := scanString(b, i+1)
			if msg != "" {
				d.pos = j
				return d.syntax(msg)
			}
			d.setString(f, i+1, j-1, fl)
			i = j
		} else {
			d.pos = i
			var err *InvalidError
			switch {
			case f < numStrFields:
				err = d.stringValue(f)
			case f == fLocation:
				err = d.locationValue()
			case f == fLat:
				err = d.numberValue(&d.lat, &d.hasLat, f)
			case f == fLon:
				err = d.numberValue(&d.lon, &d.hasLon, f)
			default:
				if d.saved == nil {
					d.saved = unknownField(inLocation, string(unquote(nil, key, flags&strSlow != 0)))
				}
				err = d.skipValue()
			}
			if err != nil {
				return err
			}
			i = d.pos
		}
		if i = skipSpace(b, i); i >= len(b) {
			d.pos = i
			return d.syntax("unexpected end of input in an object")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			d.pos = i + 1
			d.depth--
			return nil
		default:
			d.pos = i
			return d.syntax("want , or } after an object value")
		}
	}
}

// skipSpace returns the index of the first byte from b[i] on that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

// keyName is a field's name as a key, with its closing quote, in 64-bit
// words to compare with the input eight bytes at a time.
type keyName struct {
	name  string
	f     int
	words [3]uint64 // the name and its closing quote, little-endian
	masks [3]uint64 // the bytes of words that count
}

func newKey(name string, f int) keyName {
	k := keyName{name: name, f: f}
	q := name + `"`
	for i := 0; i < len(q); i++ {
		k.words[i/8] |= uint64(q[i]) << (8 * (i % 8))
		k.masks[i/8] |= 0xff << (8 * (i % 8))
	}
	return k
}

// at reports whether b[pos:] starts with k's name and closing quote.
func (k *keyName) at(b []byte, pos int) bool {
	if pos+24 > len(b) {
		end := pos + len(k.name)
		return end < len(b) && b[end] == '"' && string(b[pos:end]) == k.name
	}
	b = b[pos : pos+24]
	return binary.LittleEndian.Uint64(b)&k.masks[0] == k.words[0] &&
		binary.LittleEndian.Uint64(b[8:])&k.masks[1] == k.words[1] &&
		binary.LittleEndian.Uint64(b[16:])&k.masks[2] == k.words[2]
}

// The number of fields of the location object, and of the event object.
const (
	numLocationFields = numStrFields - fLocCountry + fLon - fLocation
	numTopFields      = numFields - numLocationFields
)

// The keys of the event and of the location object in the order Marshal
// writes them, the order object expects. Arrays, not slices: object runs
// measurably faster on them.
var eventKeys, locationKeys = func() (top [numTopFields]keyName, loc [numLocationFields]keyName) {
	t, l := 0, 0
	for _, f := range wireOrder {
		if isLocationField(f) {
			loc[l] = newKey(jsonKey(f), f)
			l++
		} else {
			top[t] = newKey(jsonKey(f), f)
			t++
		}
	}
	return top, loc
}()

// unknownField is the error of an unknown key, in the location object when
// inLocation: its path as fmt's %q prints it, without the quotes.
func unknownField(inLocation bool, key string) *InvalidError {
	path := strings.Trim(fmt.Sprintf("%q", key), `"`)
	if inLocation {
		path = fields[fLocation].Path + "." + path
	}
	return invalid(ReasonUnknownField, path, "unknown field")
}

// repeated saves the error of a second key of field f.
func (d *eventDecoder) repeated(f int) {
	if d.saved == nil {
		d.saved = invalid(ReasonMalformed, fields[f].Path, "key %q appears twice; each key may appear once", jsonKey(f))
	}
}

// open enters the array or object whose bracket is at d.pos.
func (d *eventDecoder) open() *InvalidError {
	d.depth++
	if d.depth > maxJSONDepth {
		return d.syntax("arrays and objects nested too deep")
	}
	d.pos++
	return nil
}

// colon reads the : between a key and its value, and the space around it.
func (d *eventDecoder) colon() *InvalidError {
	d.skipSpace()
	if d.pos >= len(d.b) || d.b[d.pos] != ':' {
		return d.syntax("want : after an object key")
	}
	d.pos++
	d.skipSpace()
	return nil
}

func (d *eventDecoder) stringValue(f int) *InvalidError {
	if d.pos < len(d.b) {
		switch d.b[d.pos] {
		case '"':
			d.pos++
			start := d.pos
			flags, err := d.scanString()
			if err != nil {
				return err
			}
			d.setString(f, start, d.pos-1, flags)
			return nil
		case 'n':
			// null is absent.
			return d.literal("null")
		}
	}
	return d.wrongType(f, "a string")
}

// setString records that field f holds the string b[start:end], in which
// scanString found flags.
func (d *eventDecoder) setString(f, start, end int, flags uint8) {
	d.str[f] = rawString{start, end}
	d.set |= 1 << f
	d.slow &^= 1 << f
	if flags != 0 {
		d.odd = d.odd || flags&strDEL != 0
		d.slow |= uint32(flags&strSlow) << f
	}
}

func (d *eventDecoder) locationValue() *InvalidError {
	if d.pos < len(d.b) {
		switch d.b[d.pos] {
		case '{':
			d.loc = true
			return d.object(true)
		case 'n':
			return d.literal("null")
		}
	}
	return d.wrongType(fLocation, "an object")
}

func (d *eventDecoder) numberValue(v *float64, has *bool, f int) *InvalidError {
	if d.pos < len(d.b) {
		switch c := d.b[d.pos]; {
		case c == '-' || c >= '0' && c <= '9':
			start := d.pos
			if err := d.scanNumber(); err != nil {
				return err
			}
			x, ok := parseSimpleFloat(d.b[start:d.pos])
			var err error
			if !ok {
				x, err = strconv.ParseFloat(string(d.b[start:d.pos]), 64)
			}
			if err != nil {
				if d.saved == nil {
					d.saved = invalid(ReasonMalformed, "", "cannot parse JSON: %s: number %s is out of range", fields[f].Path, d.b[start:d.pos])
				}
				return nil
			}
			*v, *has = x, true
			return nil
		case c == 'n':
			*has = false
			return d.literal("null")
		}
	}
	return d.wrongType(f, "a number")
}

// wrongType saves the error of a value of the wrong JSON type for field f and
// skips the value.
func (d *eventDecoder) wrongType(f int, want string) *InvalidError {
	if d.pos >= len(d.b) {
		return d.syntax("unexpected end of input, want a value")
	}
	c := d.b[d.pos]
	if err := d.skipValue(); err != nil {
		return err
	}
	if d.saved == nil {
		d.saved = invalid(ReasonMalformed, "", "cannot parse JSON: %s is %s, want %s", fields[f].Path, kindOf(c), want)
	}
	return nil
}

func kindOf(c byte) string {
	switch c {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// skipValue checks the syntax of the value at d.pos and moves past it.
func (d *eventDecoder) skipValue() *InvalidError {
	var arrays [maxJSONDepth/64 + 1]uint64 // bit per open container: 1 if an array
	base := d.depth
	for {
		// A value is due.
		if d.pos >= len(d.b) {
			return d.syntax("unexpected end of input, want a value")
		}
		switch c := d.b[d.pos]; c {
		case '{', '[':
			if err := d.open(); err != nil {
				return err
			}
			k := d.depth - base - 1
			d.skipSpace()
			if c == '[' {
				arrays[k/64] |= 1 << (k % 64)
				if d.pos < len(d.b) && d.b[d.pos] == ']' {
					d.pos++
					d.depth--
					break
				}
				continue
			}
			arrays[k/64] &^= 1 << (k % 64)
			if d.pos < len(d.b) && d.b[d.pos] == '}' {
				d.pos++
				d.depth--
				break
			}
			if err := d.skipKey(); err != nil {
				return err
			}
			continue
		case '"':
			d.pos++
			if _, err := d.scanString(); err != nil {
				return err
			}
		case 't':
			if err := d.literal("true"); err != nil {
				return err
			}
		case 'f':
			if err := d.literal("false"); err != nil {
				return err
			}
		case 'n':
			if err := d.literal("null"); err != nil {
				return err
			}
		default:
			if c != '-' && (c < '0' || c > '9') {
				return d.syntax("want a value")
			}
			if err := d.scanNumber(); err != nil {
				return err
			}
		}
		// A value ended: close containers until one wants another value.
	next:
		for {
			if d.depth == base {
				return nil
			}
			d.skipSpace()
			if d.pos >= len(d.b) {
				return d.syntax("unexpected end of input in an array or object")
			}
			k := d.depth - base - 1
			isArray := arrays[k/64]&(1<<(k%64)) != 0
			switch c := d.b[d.pos]; {
			case c == ',':
				d.pos++
				d.skipSpace()
				if !isArray {
					if err := d.skipKey(); err != nil {
						return err
					}
				}
				break next
			case c == ']' && isArray, c == '}' && !isArray:
				d.pos++
				d.depth--
			default:
				return d.syntax("want , or the end of the array or object")
			}
		}
	}
}

// skipKey moves past a key and its colon.
func (d *eventDecoder) skipKey() *InvalidError {
	if d.pos >= len(d.b) || d.b[d.pos] != '"' {
		return d.syntax("want a string key")
	}
	d.pos++
	if _, err := d.scanString(); err != nil {
		return err
	}
	return d.colon()
}

// strPlain marks the bytes a string holds as they are and that need no
// further look: printable ASCII other than the quote and the backslash.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// notPlain returns the high bit set in every byte of x that is not strPlain,
// and maybe in bytes after it (never before).
func notPlain(x uint64) uint64 {
	return (x | (x - lsb*0x20) | ((x ^ lsb*'"') - lsb) | ((x ^ lsb*'\\') - lsb) | ((x ^ lsb*0x7f) - lsb)) & msb
}

// What scanString found in a string.
const (
	strSlow = 1 << iota // escapes or invalid UTF-8: needs unquoting
	strDEL              // the control character DEL, which JSON allows raw
)

// scanString moves past the string whose opening quote lies just before
// d.pos, and the closing quote.
func (d *eventDecoder) scanString() (flags uint8, err *InvalidError) {
	j, flags, msg := scanString(d.b, d.pos)
	d.pos = j
	if msg != "" {
		return 0, d.syntax(msg)
	}
	return flags, nil
}

// scanString returns the index just past the closing quote of the string
// whose opening quote lies just before b[i], and what it found in it. On a
// syntax error, msg says what is wrong at b[j].
func scanString(b []byte, i int) (j int, flags uint8, msg string) {
	for {
		// Skip plain bytes, eight at a time.
		for i+8 <= len(b) {
			m := notPlain(binary.LittleEndian.Uint64(b[i:]))
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, 0, "unexpected end of input in a string"
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags, ""
		case c == '\\':
			flags |= strSlow
			if i+1 >= len(b) {
				return i + 1, 0, "unexpected end of input in a string"
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(b) {
						return j, 0, "unexpected end of input in a string"
					}
					if !isHex(b[j]) {
						return j, 0, "invalid \\u escape in a string"
					}
				}
				i += 6
			default:
				return i + 1, 0, "invalid escape in a string"
			}
		case c < 0x20:
			return i, 0, "control character in a string"
		case c == 0x7f:
			flags |= strDEL
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				flags |= strSlow
			}
			i += n
		}
	}
}

// float64pow10 are the powers of ten that float64 holds exactly.
var float64pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
	1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseSimpleFloat converts a JSON number of at most 15 digits and no
// exponent, as coordinates are, exactly as strconv.ParseFloat does: both the
// digits and the power of ten are exact in a float64, so their quotient is
// the correctly rounded value. ok is false for other numbers.
func parseSimpleFloat(b []byte) (f float64, ok bool) {
	i, neg := 0, false
	if i < len(b) && b[i] == '-' {
		i, neg = 1, true
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f = float64(mant) / float64pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber moves past the JSON number at d.pos.
func (d *eventDecoder) scanNumber() *InvalidError {
	b, i := d.b, d.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return d.syntax("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.pos = i
			return d.syntax("invalid number: want a digit after the decimal point")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.pos = i
			return d.syntax("invalid number: want a digit in the exponent")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.pos = i
	return nil
}

// literal moves past lit (true, false or null), which must be at d.pos.
func (d *eventDecoder) literal(lit string) *InvalidError {
	end := d.pos + len(lit)
	if end > len(d.b) || string(d.b[d.pos:end]) != lit {
		return d.syntax("invalid literal, want " + lit)
	}
	d.pos = end
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func (d *eventDecoder) skipSpace() { d.pos = skipSpace(d.b, d.pos) }

func (d *eventDecoder) syntax(what string) *InvalidError {
	if d.pos >= len(d.b) {
		return invalid(ReasonMalformed, "", "cannot parse JSON: %s (at the end, offset %d)", what, d.pos)
	}
	return invalid(ReasonMalformed, "", "cannot parse JSON: %s at offset %d (%q)", what, d.pos, d.b[d.pos])
}

// lookupField returns the field that key (raw, between the quotes) sets, or
// fUnknown; slow says key has escapes or invalid UTF-8.
func lookupField(key []byte, slow, inLocation bool) int {
	if slow {
		var kb [64]byte
		key = unquote(kb[:0], key, true)
	}
	return exactField(key, inLocation)
}

// unquote appends the string s (the bytes between the quotes, already
// checked by scanString) to dst; slow says s has escapes or invalid UTF-8.
// It follows encoding/json: invalid UTF-8 and unpaired surrogates become
// U+FFFD.
func unquote(dst, s []byte, slow bool) []byte {
	if !slow {
		return append(dst, s...)
	}
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch e := s[r+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						dst = utf8.AppendRune(dst, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // " \ /
				dst = append(dst, e)
			}
			r += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, n := utf8.DecodeRune(s[r:])
			dst = utf8.AppendRune(dst, rr)
			r += n
		}
	}
	return dst
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// raw fills r from the decoded fields, allocating their strings.
func (d *eventDecoder) raw(r *rawEvent) {
	// The strings that need no unquoting share one allocation, but the
	// tracking number gets its own (see the top of this file). They are
	// built on the stack, which needs no write barriers, and copied once.
	var sa [numStrFields]string
	s := &sa
	if rs := d.str[fTrackingNumber]; d.set&(1<<fTrackingNumber) != 0 {
		if d.slow&(1<<fTrackingNumber) != 0 {
			s[fTrackingNumber] = string(unquote(nil, d.b[rs.start:rs.end], true))
			d.odd = d.odd || hasControl(s[fTrackingNumber])
		} else {
			s[fTrackingNumber] = string(d.b[rs.start:rs.end])
		}
	}
	plain := d.set &^ d.slow &^ (1 << fTrackingNumber)
	// The length in bytes between the quotes bounds the characters of the
	// string from above, escapes and all, and is 0 only for "".
	var empty, long uint32
	n := 0
	for m := plain; m != 0; m &= m - 1 {
		f := bits.TrailingZeros32(m)
		rs := &d.str[f]
		l := rs.end - rs.start
		n += l
		if l == 0 {
			empty |= 1 << f
		} else if l > int(textMaxLen[f]) {
			long |= 1 << f
		}
	}
	for m := d.set &^ plain; m != 0; m &= m - 1 {
		f := bits.TrailingZeros32(m)
		if l := d.str[f].end - d.str[f].start; l == 0 {
			empty |= 1 << f
		} else if l > int(textMaxLen[f]) {
			long |= 1 << f
		}
	}
	r.filled, r.long = d.set&^empty, long
	if n > 0 {
		var sb strings.Builder
		sb.Grow(n)
		for m := plain; m != 0; m &= m - 1 {
			rs := &d.str[bits.TrailingZeros32(m)]
			sb.Write(d.b[rs.start:rs.end])
		}
		all := sb.String()
		off := 0
		for m := plain; m != 0; m &= m - 1 {
			f := bits.TrailingZeros32(m)
			rs := &d.str[f]
			end := off + rs.end - rs.start
			s[f] = all[off:end]
			off = end
		}
	}
	if d.set&d.slow&^(1<<fTrackingNumber) != 0 {
		d.unquoteAll(s)
	}
	r.s = sa
	if d.loc {
		lb := &locationBlock{loc: Location{Country: s[fLocCountry], City: s[fLocCity], PostalCode: s[fLocPostalCode]}}
		if d.hasLat {
			lb.lat = d.lat
			lb.loc.Lat = &lb.lat
		}
		if d.hasLon {
			lb.lon = d.lon
			lb.loc.Lon = &lb.lon
		}
		r.loc = &lb.loc
	}
}

// unquoteAll sets the strings with escapes or invalid UTF-8, but the
// tracking number, sharing one allocation.
func (d *eventDecoder) unquoteAll(s *[numStrFields]string) {
	var ends [numStrFields]int
	var scratch [512]byte
	buf := scratch[:0]
	slow := d.set & d.slow &^ (1 << fTrackingNumber)
	for m := slow; m != 0; m &= m - 1 {
		f := bits.TrailingZeros32(m)
		buf = unquote(buf, d.b[d.str[f].start:d.str[f].end], true)
		ends[f] = len(buf)
	}
	all := string(buf)
	d.odd = d.odd || hasControl(all)
	prev := 0
	for m := slow; m != 0; m &= m - 1 {
		f := bits.TrailingZeros32(m)
		s[f] = all[prev:ends[f]]
		prev = ends[f]
	}
}

// hasControl reports whether s holds a character that checkText rejects as a
// control character.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if isControl(rune(s[i])) {
			return true
		}
	}
	return false
}

// fastEvent does what r.event does when all is well, for strings that are
// valid UTF-8 (unquoted strings are) without control characters, checking
// the rules of the field table in a cheaper way (textsOK). It returns
// false when any rule fails; r.event then says which.
//
// A rule added to rawEvent.event or Validate must be added here too, or
// Decode will accept what it should reject; TestFastEventFollowsValidate and
// FuzzDecodeMatchesStd look for that.
func fastEvent(r *rawEvent, now time.Time) (Event, bool) {
	s := &r.s
	st, err := ParseStatus(s[fStatus])
	if err != nil {
		return Event{}, false
	}
	sec, nsec, ok := rfc3339Unix(s[fOccurredAt])
	if !ok || !unixOK(fOccurredAt, sec, nsec, now) {
		return Event{}, false
	}
	occurred := time.Unix(sec, nsec).UTC()
	var promised time.Time
	if s[fPromisedAt] != "" {
		if sec, nsec, ok = rfc3339Unix(s[fPromisedAt]); !ok || !unixOK(fPromisedAt, sec, nsec, now) {
			return Event{}, false
		}
		promised = time.Unix(sec, nsec).UTC()
	}
	if !r.textsOK() {
		return Event{}, false
	}
	if l := r.loc; l != nil {
		if l.Lat != nil && !(*l.Lat >= fields[fLat].Min && *l.Lat <= fields[fLat].Max) ||
			l.Lon != nil && !(*l.Lon >= fields[fLon].Min && *l.Lon <= fields[fLon].Max) {
			return Event{}, false
		}
	}
	return Event{
		EventID:            s[fEventID],
		TrackingNumber:     s[fTrackingNumber],
		Carrier:            s[fCarrier],
		Service:            s[fService],
		OriginCountry:      s[fOriginCountry],
		DestinationCountry: s[fDestinationCountry],
		Status:             st,
		CarrierStatus:      s[fCarrierStatus],
		Description:        s[fDescription],
		OccurredAt:         occurred,
		Location:           r.loc,
		PromisedAt:         promised,
		Merchant:           s[fMerchant],
		Locale:             s[fLocale],
	}, true
}
