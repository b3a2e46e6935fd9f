package dlq

import (
	"fmt"
	"strings"
	"time"

	"github.com/shiplens/shiplens/ingest/carriers"
	"github.com/shiplens/shiplens/schemas"
)

// ReplayResult is what Replay made of a set of dead letters.
type ReplayResult struct {
	Events   []schemas.Event // valid now, ready to publish
	Fixed    int             // dead letters that yielded events
	StillBad []error         // one per dead letter that is still invalid
}

// Replay runs dead letters through ingestion again, e.g. after a person fixed
// them or a validation bug was fixed. A record rejected by the processor or
// the events endpoint must now be a valid canonical event. A record from a
// webhook or a poll is parsed again by its source's adapter; failing that, it
// is accepted as a canonical event, so any dead letter can be fixed by
// replacing its value with the event it should have been.
func Replay(letters []Letter, now time.Time) ReplayResult {
	var res ReplayResult
	for i := range letters {
		d := &letters[i]
		where := fmt.Sprintf("dead letter %d (%s, %s)", i, d.Source, d.Reason)
		if d.Topic != "" {
			where = fmt.Sprintf("dead letter %d (%s %s/%d@%d, %s)", i, d.Source, d.Topic, d.Partition, d.Offset, d.Reason)
		}
		_, name, fromAdapter := strings.Cut(d.Source, "/")
		if fromAdapter {
			if a, err := carriers.Lookup(name); err == nil {
				if r, err := a.Parse(d.Value, now); err == nil && len(r.Events) > 0 && len(r.Problems) == 0 {
					res.Events = append(res.Events, r.Events...)
					res.Fixed++
					continue
				}
			}
		}
		e, err := schemas.Decode(d.Value, now)
		if err != nil {
			res.StillBad = append(res.StillBad, fmt.Errorf("%s: %w", where, err))
			continue
		}
		res.Events = append(res.Events, e)
		res.Fixed++
	}
	return res
}
