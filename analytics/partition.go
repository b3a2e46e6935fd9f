package analytics

import (
	"slices"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

// Partition is the state of the shipments of one Kafka partition, as its
// owner keeps it between writes: each shipment's state, the shipments that
// changed since the last write with what the daily aggregates hold for
// them, and the partition's watermark (the latest occurred_at seen). It
// holds no I/O: the caller looks up, writes and restores.
//
// Its memory follows the shipments in flight: Evict drops the closed ones
// whose retention has passed, in event time. An event for a shipment that
// is not in memory creates it from that event alone and marks it a miss;
// before the next write the caller looks the misses up in storage and
// Resolve merges what it finds (Shipment.Merge), so that an evicted
// shipment continues exactly where it stopped.
type Partition struct {
	shipments map[string]*tracked
	pending   []pendingChange
	misses    int
	watermark uint32
	swept     uint32 // watermark at the last Sweep
	// OnEvict, when set, is called with each shipment Evict removes.
	OnEvict func(trackingNumber string)
}

type tracked struct {
	Shipment
	memo Memo
	pend int32 // 1 + index in pending; 0 while unchanged since the last write
	miss bool  // created from events alone; storage may hold more
}

// Memo is what the alerting layer (package alerts) remembers of a shipment
// beside its events: what its customer was told, which alerts are open and
// when its next timer is due. It lives and leaves with the shipment; the
// alerting layer restores it from its own tables.
type Memo struct {
	Sent     uint16 // notification kinds sent, one bit each
	Attempts uint16 // failed delivery attempts seen
	Open     uint32 // rules with an open alert, one bit per rule
	Told     uint32 // the predicted delivery the customer was last told (Unix seconds); 0: none
	Due      uint32 // event time of the shipment's next timer; 0: none scheduled
}

type pendingChange struct {
	trackingNumber string
	t              *tracked
	from           Contribution // what the aggregates hold for the shipment
}

// NewPartition returns an empty partition.
func NewPartition() *Partition {
	return &Partition{shipments: make(map[string]*tracked)}
}

// Len returns the number of shipments in memory.
func (p *Partition) Len() int { return len(p.shipments) }

// Changed returns the number of shipments changed since the last write.
func (p *Partition) Changed() int { return len(p.pending) }

// Watermark returns the latest occurred_at seen (Unix seconds), 0 if none.
func (p *Partition) Watermark() uint32 { return p.watermark }

// Get returns the state of trackingNumber, nil when it is not in memory.
// The state is the partition's: the caller must not keep or change it.
func (p *Partition) Get(trackingNumber string) *Shipment {
	if t := p.shipments[trackingNumber]; t != nil {
		return &t.Shipment
	}
	return nil
}

// Memo returns the alerting memo of trackingNumber, nil when it is not in
// memory. The caller may change it in place.
func (p *Partition) Memo(trackingNumber string) *Memo {
	if t := p.shipments[trackingNumber]; t != nil {
		return &t.memo
	}
	return nil
}

// Lookup returns the state and the memo of trackingNumber in one map
// lookup; both nil when it is not in memory.
func (p *Partition) Lookup(trackingNumber string) (*Shipment, *Memo) {
	if t := p.shipments[trackingNumber]; t != nil {
		return &t.Shipment, &t.memo
	}
	return nil, nil
}

// Miss reports whether trackingNumber was created from events alone and
// is not yet resolved against storage (see Resolve).
func (p *Partition) Miss(trackingNumber string) bool {
	t := p.shipments[trackingNumber]
	return t != nil && t.miss
}

// Each calls fn for every shipment in memory, in no particular order.
func (p *Partition) Each(fn func(trackingNumber string, s *Shipment, m *Memo)) {
	for tn, t := range p.shipments {
		fn(tn, &t.Shipment, &t.memo)
	}
}

// Has reports whether trackingNumber is in memory.
func (p *Partition) Has(trackingNumber string) bool { return p.shipments[trackingNumber] != nil }

// Restore puts a stored state in memory, replacing any other. Its
// contribution is taken to be in the aggregates already.
func (p *Partition) Restore(trackingNumber string, st Shipment) {
	p.watermark = max(p.watermark, st.LastAt)
	if old := p.shipments[trackingNumber]; old != nil && old.pend != 0 {
		// Replace the state but keep the pending change pointing at it.
		if old.miss {
			p.misses--
		}
		old.Shipment, old.miss = st, false
		p.pending[old.pend-1].from = st.Contribution()
		return
	}
	p.shipments[trackingNumber] = &tracked{Shipment: st}
}

// Apply folds e into the shipment e.TrackingNumber and reports whether its
// state changed and whether it was created (not in memory before).
//
// accounted says that the aggregates already hold the effect of e: the
// events between a crash's last aggregates write and the shipment facts it
// did not write, replayed. Their changes are written as facts only. A
// shipment that is not in memory must then be restored from storage first
// (Has, Restore), because Resolve cannot tell its old contribution apart.
func (p *Partition) Apply(e *schemas.Event, accounted bool) (changed, created bool) {
	if t := unix(e.OccurredAt); t > p.watermark {
		p.watermark = t
	}
	tn := e.TrackingNumber
	t := p.shipments[tn]
	if t == nil {
		t = &tracked{miss: !accounted}
		p.shipments[tn] = t
		created = true
	}
	var before Contribution
	if t.pend == 0 {
		before = t.Contribution()
	}
	if !t.Apply(e) {
		return false, created
	}
	if t.pend == 0 {
		p.pending = append(p.pending, pendingChange{trackingNumber: tn, t: t, from: before})
		t.pend = int32(len(p.pending))
		if t.miss {
			p.misses++
		}
	}
	if accounted {
		p.pending[t.pend-1].from = t.Contribution()
	}
	return true, created
}

// Misses returns the changed shipments that were created from events alone
// and not yet resolved: the ones to look up in storage before the next
// write.
func (p *Partition) Misses() []string {
	if p.misses == 0 {
		return nil
	}
	out := make([]string, 0, p.misses)
	for _, c := range p.pending {
		if c.t.miss {
			out = append(out, c.trackingNumber)
		}
	}
	return out
}

// Resolve merges into each miss the stored state that lookup returns for
// it (ok false: storage has none) and marks every miss resolved. A stored
// state's contribution is in the aggregates already, so the next write
// changes them by the difference.
func (p *Partition) Resolve(lookup func(trackingNumber string) (Shipment, bool)) {
	if p.misses == 0 {
		return
	}
	for i := range p.pending {
		c := &p.pending[i]
		if !c.t.miss {
			continue
		}
		c.t.miss = false
		stored, ok := lookup(c.trackingNumber)
		if !ok {
			continue
		}
		c.from = stored.Contribution()
		p.watermark = max(p.watermark, stored.LastAt)
		events := c.t.Shipment
		c.t.Shipment = stored
		c.t.Merge(&events)
	}
	p.misses = 0
}

// Pending returns what the next write must store: a fact for every changed
// shipment, written from Kafka partition partition, and the change of the
// daily aggregates. It clears nothing; Written does, once both are stored.
func (p *Partition) Pending(partition int) ([]Fact, *Days) {
	facts := make([]Fact, len(p.pending))
	days := &Days{}
	for i := range p.pending {
		c := &p.pending[i]
		facts[i] = Fact{TrackingNumber: c.trackingNumber, Partition: partition, State: c.t.Shipment}
		if len(c.t.EarlyOut) > 0 { // Apply filters it in place
			facts[i].State.EarlyOut = slices.Clone(c.t.EarlyOut)
		}
		to := c.t.Contribution()
		days.Change(&c.from, &to)
	}
	return facts, days
}

// Written records that what Pending returned is stored.
func (p *Partition) Written() {
	for i := range p.pending {
		p.pending[i].t.pend = 0
	}
	clear(p.pending)
	p.pending = p.pending[:0]
}

// Retention says how long, in event time, a shipment stays in memory after
// its last event.
type Retention struct {
	Closed time.Duration // a delivered or returned shipment
	Lost   time.Duration // any other shipment (lost or abandoned parcels); 0: forever
}

// DefaultRetention keeps closed shipments for 30 days and open ones for 90
// days after their last event.
var DefaultRetention = Retention{Closed: 30 * 24 * time.Hour, Lost: 90 * 24 * time.Hour}

// Keep reports whether a shipment in state s stays in memory at watermark w
// (Unix seconds): what Evict keeps and what a restore must read back. A
// shipment leaves once the watermark passes its last event plus retention.
func (r Retention) Keep(s *Shipment, w uint32) bool {
	if s.Closed() {
		return s.LastAt >= horizon(w, r.Closed)
	}
	return r.Lost <= 0 || s.LastAt >= horizon(w, r.Lost)
}

// Evict removes from memory the unchanged shipments that r no longer keeps
// at the watermark, and returns how many it removed.
func (p *Partition) Evict(r Retention) int {
	n := 0
	for tn, t := range p.shipments {
		if t.pend == 0 && !r.Keep(&t.Shipment, p.watermark) {
			delete(p.shipments, tn)
			n++
			if p.OnEvict != nil {
				p.OnEvict(tn)
			}
		}
	}
	return n
}

// sweepEvery is how far, in event time (seconds), the watermark moves
// between two sweeps: Evict visits every shipment in memory, so Sweep runs
// it at most once per hour of event time.
const sweepEvery = 3600

// Sweep is Evict, run only when the watermark has moved an hour of event
// time since the last sweep; it returns how many shipments it removed.
func (p *Partition) Sweep(r Retention) int {
	if p.watermark < p.swept+sweepEvery {
		return 0
	}
	p.swept = p.watermark
	return p.Evict(r)
}

// horizon returns w minus d in Unix seconds, at least 0.
func horizon(w uint32, d time.Duration) uint32 {
	s := int64(d / time.Second)
	if s >= int64(w) {
		return 0
	}
	return w - uint32(s)
}
