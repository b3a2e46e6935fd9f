package carriers

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// MaxPayload is the largest payload Parse reads, in bytes (10 MiB); a
// carrier response for a few hundred shipments stays well under it.
const MaxPayload = 10 << 20

// Adapter turns one raw payload into canonical events.
type Adapter interface {
	// Name returns the source name Lookup knows the adapter by.
	Name() string
	// Parse reads one payload. now is the receiver's clock; events more
	// than a day past it are rejected as problems. The error, a
	// *PayloadError, is for payloads that cannot be read at all (or, for
	// CSV, an invalid configuration).
	Parse(payload []byte, now time.Time) (Result, error)
}

// Result holds the events an adapter could build from a payload, in payload
// order, and the records it could not turn into events, so that one bad scan
// does not lose the good ones.
type Result struct {
	Events   []schemas.Event
	Problems []Problem
}

// Problem is one record of a payload that did not become an event.
type Problem struct {
	// Index is the 0-based position of the scan record among all scan
	// records of the payload, in payload order, or -1 when the problem
	// concerns a shipment as a whole (no tracking number, a carrier error
	// instead of scans); Field then says which.
	Index int
	// Field locates the offending value: a path into the payload such as
	// "shipments[0].events[2].timestamp", or the record's path followed by
	// the canonical field that failed validation (".occurred_at").
	Field  string
	Reason schemas.Reason
	Detail string
	Raw    []byte // the raw record (a scan, a CSV row, a line) when there is one
}

// Error returns e.g. `record 2: shipments[0].events[2].timestamp: bad_timestamp: "string" is not a time`.
func (p Problem) Error() string {
	if p.Index < 0 {
		return fmt.Sprintf("%s: %s: %s", p.Field, p.Reason, p.Detail)
	}
	return fmt.Sprintf("record %d: %s: %s: %s", p.Index, p.Field, p.Reason, p.Detail)
}

// ErrTooLarge is wrapped by the PayloadError of a payload over MaxPayload.
var ErrTooLarge = errors.New("payload too large")

// PayloadError says why a payload could not be read at all.
type PayloadError struct {
	Source string
	Reason schemas.Reason // schemas.ReasonOversize or schemas.ReasonMalformed
	Detail string         // what was expected, and what came instead
	Err    error          // the underlying error, if any
}

// Error returns e.g. "cannot parse fedex payload: want a Track API response with output.completeTrackResults: ...".
func (e *PayloadError) Error() string {
	s := "cannot parse " + e.Source + " payload: " + e.Detail
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *PayloadError) Unwrap() error { return e.Err }

func malformed(source, detail string, err error) *PayloadError {
	return &PayloadError{Source: source, Reason: schemas.ReasonMalformed, Detail: detail, Err: err}
}

// checkSize rejects payloads over MaxPayload before any parsing.
func checkSize(source string, payload []byte) error {
	if len(payload) > MaxPayload {
		return &PayloadError{Source: source, Reason: schemas.ReasonOversize, Err: ErrTooLarge,
			Detail: fmt.Sprintf("%d bytes, more than the limit of %d (10 MiB)", len(payload), MaxPayload)}
	}
	return nil
}

// sources lists the adapters in the order Sources reports them: aggregators,
// carrier APIs, generic formats.
var sources = []struct {
	name string
	new  func() Adapter
}{
	{"aftership", func() Adapter { return AfterShip{} }},
	{"17track", func() Adapter { return Track17{} }},
	{"dhl", func() Adapter { return DHL{} }},
	{"fedex", func() Adapter { return FedEx{} }},
	{"ups", func() Adapter { return UPS{} }},
	{"usps", func() Adapter { return USPS{} }},
	{"laposte", func() Adapter { return LaPoste{} }},
	{"australiapost", func() Adapter { return AusPost{} }},
	{"sendle", func() Adapter { return Sendle{} }},
	{"seko", func() Adapter { return Seko{} }},
	{"csv", func() Adapter { return CSV{} }},
	{"jsonl", func() Adapter { return JSONL{} }},
}

// Sources returns the source names Lookup knows.
func Sources() []string {
	out := make([]string, len(sources))
	for i, s := range sources {
		out[i] = s.name
	}
	return out
}

// Lookup returns the adapter of source (case-insensitive), with its default
// configuration; an unknown source's error lists the known ones.
func Lookup(source string) (Adapter, error) {
	name := strings.ToLower(strings.TrimSpace(source))
	for _, s := range sources {
		if s.name == name {
			return s.new(), nil
		}
	}
	return nil, fmt.Errorf("cannot find carrier adapter %q: want one of %s", source, strings.Join(Sources(), ", "))
}
