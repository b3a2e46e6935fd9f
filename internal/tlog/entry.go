package tlog

import (
	"fmt"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// EntryPrefix is the version line that starts every v1 entry.
const EntryPrefix = "shiplens-event/v1\n"

// Entry returns the log entry of e: EntryPrefix followed by e.Marshal(),
// the canonical JSON described in the package documentation. It fails for
// an event that does not pass schemas validation (without a clock), since
// such an event could not be decoded back from its entry.
func Entry(e *schemas.Event) ([]byte, error) {
	if e == nil {
		return nil, fmt.Errorf("cannot make log entry: nil event")
	}
	if err := e.Validate(time.Time{}); err != nil {
		return nil, fmt.Errorf("cannot make log entry of event %q: %w", e.EventID, err)
	}
	js, err := e.Marshal()
	if err != nil {
		return nil, fmt.Errorf("cannot make log entry of event %q: %w", e.EventID, err)
	}
	b := make([]byte, 0, len(EntryPrefix)+len(js))
	b = append(b, EntryPrefix...)
	return append(b, js...), nil
}

// DecodeEntry parses a v1 entry back into its event, as an auditor would;
// now is passed to schemas.Decode (zero skips the future-time rule).
func DecodeEntry(entry []byte, now time.Time) (schemas.Event, error) {
	if len(entry) < len(EntryPrefix) || string(entry[:len(EntryPrefix)]) != EntryPrefix {
		return schemas.Event{}, fmt.Errorf("cannot decode log entry: it does not start with %q", EntryPrefix)
	}
	e, err := schemas.Decode(entry[len(EntryPrefix):], now)
	if err != nil {
		return schemas.Event{}, fmt.Errorf("cannot decode log entry: %w", err)
	}
	return e, nil
}
