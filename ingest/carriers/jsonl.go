package carriers

import (
	"bytes"
	"errors"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// JSONL reads canonical events, one JSON object per line, as
// schemas.Decode defines them (what `shiplens generate --out` writes and
// `shiplens normalize` prints). Blank lines are skipped; a line that does not
// decode is a Problem whose Field is "lines[i]" (0-based line index)
// followed by the failing field. Events keep their own event_id; a repeated
// id keeps its first line.
type JSONL struct{}

var _ Adapter = JSONL{}

// Name returns "jsonl".
func (JSONL) Name() string { return "jsonl" }

// Parse implements Adapter.
func (j JSONL) Parse(payload []byte, now time.Time) (Result, error) {
	if err := checkSize(j.Name(), payload); err != nil {
		return Result{}, err
	}
	if t := bytes.TrimSpace(payload); len(t) > 0 && t[0] == '[' {
		return Result{}, malformed(j.Name(), "want one canonical event JSON object per line, got a JSON array", nil)
	}
	b := newBuilder(j.Name(), now)
	for i, line := range bytes.Split(payload, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		idx := b.record()
		path := at("lines", i)
		e, err := schemas.Decode(line, now)
		if err != nil {
			var ie *schemas.InvalidError
			if !errors.As(err, &ie) {
				ie = &schemas.InvalidError{Reason: schemas.ReasonMalformed, Detail: err.Error()}
			}
			b.problem(idx, joinPath(path, ie.Field), ie.Reason, line, "%s", ie.Detail)
			continue
		}
		if b.seen[e.EventID] {
			continue
		}
		b.seen[e.EventID] = true
		b.res.Events = append(b.res.Events, e)
	}
	return b.res, nil
}
