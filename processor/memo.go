package processor

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/shiplens/shiplens/analytics/eta"
)

// What a model version learns is, by definition, a function of what the
// partitions have written (store.Learned and store.VisitCounts): the first
// outcome of each delivered shipment and the first learn day of each scan.
// A processor that has owned every partition since the store was empty has
// seen every one of those rows as it wrote them, so it can build versions
// from memory, without reading them back. During a replay that is one
// version per day of event time, each of which would otherwise cost two
// queries over up to 200 days of history: bench/README measured those as
// the largest part of ClickHouse's time.
//
// Memory is used only while it is provably complete: the store held no
// predictions when the learner loaded, every owner of this processor began
// at its partition's start with nothing to restore, no owner has been
// revoked, and no lookup has found a stored shipment (an evicted one
// coming back, whose earlier rows memory has forgotten). The first thing
// that breaks one of these turns memory off for good, and the learner reads
// storage from the next version on, as it does with several processors.
// Either way a version is the same model: TestMemoryLearnsAsStorage
// compares them bit for bit.

// memoSet is the learner's registry of partition memories.
type memoSet struct {
	mu    sync.Mutex
	off   bool   // for good
	why   string // why it is off
	parts map[int]*partMemo
}

// join registers the memory of partition's owner, clean when the owner
// began at the partition's start with nothing stored. It returns nil when
// memory is off or the owner is not clean (which turns it off).
func (l *learner) join(partition int, clean bool) *partMemo {
	if l.cfg.FromStorage {
		return nil
	}
	m := &l.memo
	m.mu.Lock()
	defer m.mu.Unlock()
	if !clean {
		l.stopMemoLocked("partition state was restored from storage")
	}
	if m.off {
		return nil
	}
	if m.parts == nil {
		m.parts = map[int]*partMemo{}
	}
	if m.parts[partition] != nil {
		l.stopMemoLocked("a partition was assigned again")
		return nil
	}
	pm := &partMemo{ships: map[string]*memoShip{}, scans: map[uint32][]scanRef{}, outs: map[uint32][]*memoShip{}}
	m.parts[partition] = pm
	return pm
}

// stopMemo turns memory off for good.
func (l *learner) stopMemo(why string) {
	l.memo.mu.Lock()
	defer l.memo.mu.Unlock()
	l.stopMemoLocked(why)
}

func (l *learner) stopMemoLocked(why string) {
	m := &l.memo
	if m.off {
		return
	}
	m.off, m.why, m.parts = true, why, nil
	if !l.cfg.FromStorage {
		l.p.cfg.Log.Info("the ETA model learns from storage from now on", "why", why)
	}
}

// memories returns the memories of every one of parts, or false when one
// of them has none (another processor owns it) or memory is off.
func (l *learner) memories(parts []int) ([]*partMemo, bool) {
	m := &l.memo
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off || l.cfg.FromStorage || len(parts) == 0 {
		return nil, false
	}
	out := make([]*partMemo, 0, len(parts))
	for _, p := range parts {
		pm := m.parts[p]
		if pm == nil {
			return nil, false
		}
		out = append(out, pm)
	}
	return out, true
}

// memoOff reports whether memory is off.
func (l *learner) memoOff() bool {
	l.memo.mu.Lock()
	defer l.memo.mu.Unlock()
	return l.memo.off
}

// partMemo is what one partition has written that versions learn from,
// kept by its owner (add, forget) and read by the learner (collect,
// prune).
type partMemo struct {
	mu       sync.Mutex
	progress uint32 // the owner's progress written
	first    uint32 // least learn day of its predictions written; 0: none
	ships    map[string]*memoShip
	scans    map[uint32][]scanRef   // by a scan's first learn day when it was filed; rechecked on use
	outs     map[uint32][]*memoShip // by a shipment's first outcome's learn day when filed; rechecked
}

// memoShip is one shipment's scans and outcomes.
type memoShip struct {
	tn     string
	labels []label
	scans  []memoScan
	outs   []eta.Outcome
	first  uint32 // least learn day of outs; 0: none
}

type label struct{ carrier, service, lane string }

// memoScan is one scan (as_of, milestone) of a shipment: its first learn
// day, and the rev and labels of the first prediction made at it (the
// least learn day, then the least rev).
type memoScan struct {
	at        uint32
	first     uint32
	rev       uint64
	milestone eta.Milestone
	label     uint8
}

type scanRef struct {
	ship *memoShip
	i    int32
}

func (s *memoShip) label(carrier, service, lane string) uint8 {
	for i, l := range s.labels {
		if l.carrier == carrier && l.service == service && l.lane == lane {
			return uint8(i)
		}
	}
	if len(s.labels) == 255 {
		// Unreachable in practice; the last label stands for the rest.
		return 254
	}
	s.labels = append(s.labels, label{carrier, service, lane})
	return uint8(len(s.labels) - 1)
}

func (pm *partMemo) ship(tn string) *memoShip {
	s := pm.ships[tn]
	if s == nil {
		s = &memoShip{tn: tn}
		pm.ships[tn] = s
	}
	return s
}

// add takes what one write stored: its predictions (the history rows:
// delivered records are not history) and outcomes, and the partition's
// progress after it.
func (pm *partMemo) add(recs []eta.Record, outs []eta.Outcome, progress uint32) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		if r.Basis == eta.BasisDelivered || r.Learn == 0 {
			continue
		}
		if pm.first == 0 || r.Learn < pm.first {
			pm.first = r.Learn
		}
		s := pm.ship(r.TrackingNumber)
		j := -1
		for k := range s.scans {
			if s.scans[k].at == r.AsOf && s.scans[k].milestone == r.Milestone {
				j = k
				break
			}
		}
		if j < 0 {
			s.scans = append(s.scans, memoScan{at: r.AsOf, first: r.Learn, rev: r.Rev, milestone: r.Milestone,
				label: s.label(r.Carrier, r.Service, r.Lane)})
			pm.scans[r.Learn] = append(pm.scans[r.Learn], scanRef{s, int32(len(s.scans) - 1)})
			continue
		}
		sc := &s.scans[j]
		if r.Learn < sc.first || r.Learn == sc.first && r.Rev < sc.rev {
			if r.Learn < sc.first {
				pm.scans[r.Learn] = append(pm.scans[r.Learn], scanRef{s, int32(j)})
			}
			sc.first, sc.rev, sc.label = r.Learn, r.Rev, s.label(r.Carrier, r.Service, r.Lane)
		}
	}
	for _, o := range outs {
		s := pm.ship(o.TrackingNumber)
		s.outs = append(s.outs, o)
		if s.first == 0 || o.Learn < s.first {
			s.first = o.Learn
			pm.outs[o.Learn] = append(pm.outs[o.Learn], s)
		}
	}
	if progress > pm.progress {
		pm.progress = progress
	}
}

// forget drops a shipment the owner evicted: a later event for it comes
// back through a lookup, which turns memory off.
func (pm *partMemo) forget(tn string) {
	pm.mu.Lock()
	delete(pm.ships, tn)
	pm.mu.Unlock()
}

func (pm *partMemo) state() (progress, first uint32) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	return pm.progress, pm.first
}

// visitKey is a row of store.VisitCounts without its count.
type visitKey struct {
	carrier, service, lane string
	milestone              eta.Milestone
	day                    uint32
}

// collect adds to counts the scans, and returns the deliveries, that
// version v learns in a build of (from, to]: the same rows, with the same
// windows, as store.VisitCounts and store.Learned select.
func (pm *partMemo) collect(from, to, v uint32, counts map[visitKey]float64) []eta.Delivery {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	const bound = uint32(eta.JourneyBound / time.Second)
	scanFloor := uint32(0)
	if from > 2*bound {
		scanFloor = from - 2*bound
	}
	outFloor := uint32(0)
	if from > bound {
		outFloor = from - bound
	}
	for _, ref := range pm.scans[v] {
		sc := &ref.ship.scans[ref.i]
		if sc.first != v || sc.at < scanFloor {
			continue // filed again under an earlier day, or out of the window
		}
		l := ref.ship.labels[sc.label]
		counts[visitKey{l.carrier, l.service, l.lane, sc.milestone, sc.at - sc.at%day}]++
	}
	var ds []eta.Delivery
	for _, s := range pm.outs[v] {
		if s.first != v {
			continue
		}
		// The first outcome among those in the window: the least learn
		// day, then the least rev.
		var best *eta.Outcome
		for i := range s.outs {
			o := &s.outs[i]
			if o.DeliveredAt < outFloor || o.DeliveredAt >= to {
				continue
			}
			if best == nil || o.Learn < best.Learn || o.Learn == best.Learn && o.Rev < best.Rev {
				best = o
			}
		}
		if best == nil || best.Learn != v {
			continue
		}
		d := eta.Delivery{TrackingNumber: s.tn, Carrier: best.Carrier, Service: best.Service, Lane: best.Lane,
			Start: best.Start, DeliveredAt: best.DeliveredAt, Learn: v}
		for i := range s.scans {
			sc := &s.scans[i]
			if sc.first <= to && sc.at >= scanFloor && sc.at < d.DeliveredAt {
				d.Visits = append(d.Visits, eta.Visit{At: sc.at, Milestone: sc.milestone})
			}
		}
		sortVisits(d.Visits)
		ds = append(ds, d)
	}
	return ds
}

// prune drops what versions up to v have learned.
func (pm *partMemo) prune(v uint32) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	for k := range pm.scans {
		if k <= v {
			delete(pm.scans, k)
		}
	}
	for k := range pm.outs {
		if k <= v {
			delete(pm.outs, k)
		}
	}
}

// sortVisits orders visits as store.Learned gives them.
func sortVisits(vs []eta.Visit) {
	slices.SortFunc(vs, func(a, b eta.Visit) int {
		return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Milestone, b.Milestone))
	})
}
