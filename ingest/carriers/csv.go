package carriers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shiplens/shiplens/schemas"
)

// CSVFields lists the canonical fields a CSV column can hold, in the order
// of DESIGN section 2; location is flattened into location_* columns.
var CSVFields = []string{
	"event_id", "tracking_number", "carrier", "service", "origin_country", "destination_country",
	"status", "carrier_status", "description", "occurred_at", "location_country", "location_city",
	"location_postal_code", "location_lat", "location_lon", "promised_at", "merchant",
}

// CSV reads delimited text with a header row, one scan per row: a merchant's
// export, a carrier's report. Columns maps the file's headers to canonical
// fields; by default a header that is a canonical field name (CSVFields, or
// the dotted location.city form) is that field and others are ignored.
//
// Required: tracking_number, occurred_at, status, and carrier unless Carrier
// is set. status is a canonical status; "In Transit" or "out-for-delivery"
// are read as in_transit and out_for_delivery, anything else is an
// unknown_status Problem. Countries may be alpha-2, alpha-3 or English
// names. A row without event_id gets the deterministic id. Problem.Field is
// "rows[i]" (the i-th data row, 0-based; line i+2 of a file whose header is
// one line) followed by the canonical field.
type CSV struct {
	Columns map[string]string // header name (case-insensitive) → canonical field; nil means the default mapping
	Comma   rune              // field delimiter; defaults to ','
	Carrier string            // carrier for rows without a carrier column or value; defaults to none
	Zone    *time.Location    // zone of times without a UTC offset; defaults to UTC
}

var _ Adapter = CSV{}

// Name returns "csv".
func (CSV) Name() string { return "csv" }

// Validate checks the configuration: a usable delimiter, and canonical
// fields only in Columns.
func (c CSV) Validate() error {
	if c.Comma != 0 && (c.Comma == '"' || c.Comma == '\r' || c.Comma == '\n' || !utf8.ValidRune(c.Comma) || c.Comma == utf8.RuneError) {
		return fmt.Errorf("invalid CSV delimiter %q", c.Comma)
	}
	for h, f := range c.Columns {
		if !slices.Contains(CSVFields, canonicalColumn(f)) {
			return fmt.Errorf("invalid CSV column mapping %q → %q: want one of %s", h, f, strings.Join(CSVFields, ", "))
		}
	}
	return nil
}

// canonicalColumn accepts "location.city" for "location_city".
func canonicalColumn(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), ".", "_")
}

// Parse implements Adapter. Besides unreadable payloads it fails on an
// invalid configuration and on a header that lacks a required column.
func (c CSV) Parse(payload []byte, now time.Time) (Result, error) {
	if err := checkSize(c.Name(), payload); err != nil {
		return Result{}, err
	}
	if err := c.Validate(); err != nil {
		return Result{}, fmt.Errorf("cannot parse csv payload: %w", err)
	}
	payload = bytes.TrimPrefix(payload, []byte("\xEF\xBB\xBF"))
	r := csv.NewReader(bytes.NewReader(payload))
	if c.Comma != 0 {
		r.Comma = c.Comma
	}
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty payload")
		}
		return Result{}, malformed(c.Name(), "want CSV with a header row", err)
	}
	col, err := c.columns(header)
	if err != nil {
		return Result{}, malformed(c.Name(), err.Error(), nil)
	}
	b := newBuilder(c.Name(), now)
	for i := 0; ; i++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		idx := b.record()
		path := at("rows", i)
		if err != nil {
			b.problem(idx, path, schemas.ReasonMalformed, nil, "cannot read CSV row: %v", err)
			continue
		}
		c.row(b, idx, path, col, rec)
	}
	return b.res, nil
}

// columns maps canonical fields to column indexes.
func (c CSV) columns(header []string) (map[string]int, error) {
	mapping := map[string]string{}
	for h, f := range c.Columns {
		mapping[strings.ToLower(strings.TrimSpace(h))] = canonicalColumn(f)
	}
	col := map[string]int{}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		f, ok := mapping[key]
		if c.Columns == nil {
			f, ok = canonicalColumn(key), slices.Contains(CSVFields, canonicalColumn(key))
		}
		if !ok {
			continue
		}
		if _, dup := col[f]; dup {
			return nil, fmt.Errorf("two columns map to %s", f)
		}
		col[f] = i
	}
	need := []string{"tracking_number", "occurred_at", "status"}
	if c.Carrier == "" {
		need = append(need, "carrier")
	}
	var missing []string
	for _, f := range need {
		if _, ok := col[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("want CSV whose header maps to %s; no column for %s (header: %s)",
			strings.Join(need, ", "), strings.Join(missing, ", "), clip(strings.Join(header, ","), 200))
	}
	return col, nil
}

// row turns one CSV record into a scan.
func (c CSV) row(b *builder, idx int, path string, col map[string]int, rec []string) {
	raw := csvLine(rec, c.Comma)
	get := func(f string) string {
		if i, ok := col[f]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	bad := func(f string, reason schemas.Reason, format string, args ...any) {
		b.problem(idx, joinPath(path, f), reason, raw, format, args...)
	}
	status, ok := csvStatus(get("status"))
	if !ok {
		if get("status") == "" {
			bad("status", schemas.ReasonMissingField, "required")
		} else {
			bad("status", schemas.ReasonUnknownStatus, "%q is not a canonical status such as in_transit or customs_held", clip(get("status"), 40))
		}
		return
	}
	when, ok := b.when(idx, joinPath(path, "occurred_at"), raw, get("occurred_at"), c.Zone)
	if !ok {
		return
	}
	s := scan{
		id: get("event_id"), tracking: get("tracking_number"), service: serviceCode(get("service")),
		code: get("carrier_status"), text: get("description"), status: status, at: when,
		merchant: get("merchant"),
	}
	if p := get("promised_at"); p != "" {
		t, err := parseTime(p, c.Zone)
		if err != nil {
			bad("promised_at", schemas.ReasonBadTimestamp, "%v", err)
			return
		}
		if len(p) <= len("2006-01-02") {
			t = t.Add(24*time.Hour - time.Second) // a promised day ends at its last second
		}
		s.promised = t
	}
	carrier := get("carrier")
	if carrier == "" {
		carrier = c.Carrier
	}
	if s.carrier = carrierCode(carrier); s.carrier == "" && carrier != "" {
		bad("carrier", schemas.ReasonInvalidField, "%q has no letters or digits", clip(carrier, 40))
		return
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"origin_country", &s.origin}, {"destination_country", &s.dest}, {"location_country", &s.loc.Country}} {
		v := get(f.name)
		if v == "" {
			continue
		}
		if *f.dst = country(v); *f.dst == "" {
			bad(f.name, schemas.ReasonInvalidField, "%q is not an ISO 3166-1 country code or name", clip(v, 40))
			return
		}
	}
	s.loc.City, s.loc.PostalCode = get("location_city"), get("location_postal_code")
	lat, lon := get("location_lat"), get("location_lon")
	if lat != "" || lon != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		if err1 != nil || err2 != nil || math.IsNaN(la) || math.IsNaN(lo) || math.IsInf(la, 0) || math.IsInf(lo, 0) {
			bad("location_lat", schemas.ReasonInvalidField, "coordinates %q, %q are not a pair of numbers", clip(lat, 20), clip(lon, 20))
			return
		}
		s.loc.Lat, s.loc.Lon = &la, &lo
	}
	b.emit(idx, path, raw, s)
}

// csvStatus reads a canonical status, tolerating case, spaces and hyphens
// ("Out for Delivery" is out_for_delivery).
func csvStatus(v string) (schemas.Status, bool) {
	norm := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(v)))
	st, err := schemas.ParseStatus(norm)
	return st, err == nil
}

// csvLine re-encodes a record, the raw bytes of a row's Problem.
func csvLine(rec []string, comma rune) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if comma != 0 {
		w.Comma = comma
	}
	_ = w.Write(rec)
	w.Flush()
	return bytes.TrimRight(buf.Bytes(), "\r\n")
}
