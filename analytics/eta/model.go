package eta

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
)

// Config sets how a Model learns. The zero value is usable.
type Config struct {
	// HalfLife is the event time after which a delivery weighs half as
	// much as a new one, so that the model follows change; defaults to 30
	// days.
	HalfLife time.Duration
	// Strength is how many deliveries a group's parent distribution is
	// worth when it is blended into the group's own: a group with far more
	// deliveries than Strength speaks for itself, one with few leans on
	// the coarser group. Defaults to 20.
	Strength float64
}

func (c Config) withDefaults() Config {
	if c.HalfLife <= 0 {
		c.HalfLife = 30 * 24 * time.Hour
	}
	if !(c.Strength > 0) {
		c.Strength = 20
	}
	return c
}

// numLevels is the number of groups a delivery is learned into:
// carrier+service+lane, carrier+lane, lane, destination and global.
const numLevels = int(BasisGlobal) + 1

// elapsedEdges are the times at a milestone, in hours, after which the model
// keeps a distribution of its own: a shipment still at a milestone after
// two days has a different remaining time from one that just got there.
var elapsedEdges = [...]float64{0, 6, 24, 48, 96, 192, 384}

const numElapsed = len(elapsedEdges)

// Histograms bucket hours h by ln(1+h) in steps of ln(histGamma): 4%
// relative resolution on long durations, minutes on short ones.
const (
	histGamma = 1.04
	maxHours  = 24 * 400
)

var logHistGamma = math.Log(histGamma)

func histBucket(h float64) int {
	h = min(max(h, 0), maxHours)
	return int(math.Log1p(h) / logHistGamma)
}

// bucketHours is the value that stands for bucket i.
func bucketHours(i int) float64 { return math.Expm1((float64(i) + 0.5) * logHistGamma) }

// bucketEdge is the upper edge of bucket i, in hours.
func bucketEdge(i int) float64 { return math.Expm1(float64(i+1) * logHistGamma) }

// Hist is a weighted histogram of durations in hours. Weights are stored
// unscaled (see Model.base), so that learning never touches old buckets.
type Hist struct {
	Lo int       // bucket of C[0]
	C  []float64 // weights
	N  float64   // sum of C
}

func (h *Hist) add(hours, w float64) {
	i := histBucket(hours)
	switch {
	case len(h.C) == 0:
		h.Lo, h.C = i, make([]float64, 1, 8)
	case i < h.Lo:
		// Grow downwards with room to spare: learning meets a cell's
		// range a bucket at a time.
		n := h.Lo - i + 8
		c := make([]float64, n+len(h.C), n+cap(h.C))
		copy(c[n:], h.C)
		h.C, h.Lo = c, h.Lo-n
	case i >= h.Lo+len(h.C):
		n := i - h.Lo + 1
		if n > cap(h.C) {
			c := make([]float64, n, n+8)
			copy(c, h.C)
			h.C = c
		}
		h.C = h.C[:n]
	}
	h.C[i-h.Lo] += w
	h.N += w
}

func (h *Hist) scale(f float64) {
	for i := range h.C {
		h.C[i] *= f
	}
	h.N *= f
}

// cell names a distribution of remaining time inside a group.
type cell struct {
	M Milestone
	E uint8 // index into elapsedEdges
}

// group is what the model learned for one carrier+service+lane (or coarser)
// group.
type group struct {
	Remaining map[cell]*Hist      // hours from the milestone's checkpoint to delivery
	Dwell     map[Milestone]*Hist // hours from the scan to the next one
	// Pending holds, per milestone and UTC day, the weight of the scans
	// made there whose shipments are not delivered yet: the censored
	// observations that keep the model from learning only the fast
	// parcels while the slow ones are still under way (see km).
	Pending map[Milestone]map[uint32]float64
}

func newGroup() *group {
	return &group{Remaining: map[cell]*Hist{}, Dwell: map[Milestone]*Hist{}, Pending: map[Milestone]map[uint32]float64{}}
}

// VisitCount is the number of scans made at a milestone on one UTC day by
// shipments of one carrier, service and lane: what the model needs to know
// about the parcels still under way.
type VisitCount struct {
	Carrier, Service, Lane string
	Milestone              Milestone
	Day                    uint32 // Unix seconds of the day's start
	N                      float64
	Learn                  uint32 // the model version that learns them; 0 when the caller does not say
}

func (g *group) hist(m map[cell]*Hist, c cell) *Hist {
	h := m[c]
	if h == nil {
		h = new(Hist)
		m[c] = h
	}
	return h
}

// Offer is a carrier and service seen delivering on a lane.
type Offer struct {
	Carrier, Service string
}

// Model predicts delivery times from past deliveries. It is plain data:
// Learn changes it, and a Predictor reads it; a Model that is being
// changed must not be read at the same time (the processor builds each
// version on a Clone and swaps it in).
type Model struct {
	cfg     Config
	version uint32
	// base is the event time at which a delivery's weight is 1: a delivery
	// at t weighs 2^((t-base)/HalfLife), so that decay never rewrites what
	// was learned; rebase rescales when the exponent grows large.
	base   uint32
	levels [numLevels]map[string]*group
	offers map[string]map[Offer]float64 // lane → offers → weight
	n      int64                        // deliveries learned
	gen    uint64                       // changes with every Learn, so Predictors drop their caches
}

// New returns an empty model.
func New(c Config) *Model {
	m := &Model{cfg: c.withDefaults(), offers: map[string]map[Offer]float64{}}
	for i := range m.levels {
		m.levels[i] = map[string]*group{}
	}
	return m
}

// Version returns the model version: the event time (a UTC day start in
// the processor) before which the deliveries it learned from happened; 0
// for a model that learned nothing.
func (m *Model) Version() uint32 { return m.version }

// Deliveries returns how many deliveries the model learned from.
func (m *Model) Deliveries() int64 { return m.n }

// levelKeys returns the group key of each level for a carrier, service and
// lane; a level that needs the lane has no key ("", false) when the lane is
// unknown.
func levelKeys(carrier, service, lane string) (keys [numLevels]string, ok [numLevels]bool) {
	keys[BasisGlobal], ok[BasisGlobal] = "", true
	if len(lane) != 5 {
		return keys, ok
	}
	keys[BasisCarrierServiceLane] = carrier + "|" + service + "|" + lane
	keys[BasisCarrierLane] = carrier + "|" + lane
	keys[BasisLane] = lane
	keys[BasisDestination] = lane[3:]
	for l := range BasisGlobal {
		ok[l] = true
	}
	return keys, ok
}

// weight returns the unscaled weight of a delivery at t.
func (m *Model) weight(t uint32) float64 {
	return math.Exp2((float64(t) - float64(m.base)) / m.cfg.HalfLife.Seconds())
}

// scale converts unscaled weights into weights as of the model version.
func (m *Model) scale() float64 {
	return math.Exp2(-(float64(m.version) - float64(m.base)) / m.cfg.HalfLife.Seconds())
}

// baseOf returns the weight base for a model at version: the start of its
// period of 64 half-lives, so that weights stay within 2^±64.
func baseOf(version uint32, halfLife time.Duration) uint32 {
	p := uint64(64 * halfLife / time.Second)
	return uint32(uint64(version) / p * p)
}

// rebase moves base to t, rescaling every weight, so that weights stay in
// range however long the model runs.
func (m *Model) rebase(t uint32) {
	f := math.Exp2(-(float64(t) - float64(m.base)) / m.cfg.HalfLife.Seconds())
	for _, lv := range m.levels {
		for _, g := range lv {
			for _, h := range g.Remaining {
				h.scale(f)
			}
			for _, h := range g.Dwell {
				h.scale(f)
			}
			for _, p := range g.Pending {
				for d := range p {
					p[d] *= f
				}
			}
		}
	}
	for _, o := range m.offers {
		for k := range o {
			o[k] *= f
		}
	}
	m.base = t
}

// Learn adds deliveries to the model and makes it version version. The
// deliveries are learned in (DeliveredAt, TrackingNumber) order and the
// visits in their own order, so the result depends on the sets given and
// the versions they came in, not on the order they are given in. visits
// are the scans of the period, delivered or not: each delivery then moves
// its scans from pending to learned.
func (m *Model) Learn(ds []Delivery, visits []VisitCount, version uint32) {
	ds = slices.Clone(ds)
	slices.SortFunc(ds, func(a, b Delivery) int {
		return cmp.Or(cmp.Compare(a.DeliveredAt, b.DeliveredAt), strings.Compare(a.TrackingNumber, b.TrackingNumber))
	})
	// The base is a function of the version alone, so that a model learned
	// in other steps holds the same weights to the last bit.
	if b := baseOf(version, m.cfg.HalfLife); b != m.base {
		m.rebase(b)
	}
	visits = slices.Clone(visits)
	slices.SortFunc(visits, func(a, b VisitCount) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), strings.Compare(a.Carrier, b.Carrier), strings.Compare(a.Service, b.Service),
			strings.Compare(a.Lane, b.Lane), cmp.Compare(a.Milestone, b.Milestone))
	})
	for _, v := range visits {
		keys, ok := levelKeys(v.Carrier, v.Service, v.Lane)
		w := v.N * m.weight(v.Day)
		for l := range numLevels {
			if !ok[l] {
				continue
			}
			g := m.group(l, keys[l])
			p := g.Pending[v.Milestone]
			if p == nil {
				p = map[uint32]float64{}
				g.Pending[v.Milestone] = p
			}
			p[v.Day] += w
		}
	}
	for i := range ds {
		m.learn(&ds[i])
	}
	m.version = max(m.version, version)
	m.gen++
}

func (m *Model) learn(d *Delivery) {
	if d.DeliveredAt == 0 {
		return
	}
	keys, ok := levelKeys(d.Carrier, d.Service, d.Lane)
	var gs [numLevels]*group
	for l := range gs {
		if ok[l] {
			gs[l] = m.group(l, keys[l])
		}
	}
	for j, v := range d.Visits {
		if v.At > d.DeliveredAt {
			break
		}
		next := d.DeliveredAt
		if j+1 < len(d.Visits) && d.Visits[j+1].At <= d.DeliveredAt {
			next = d.Visits[j+1].At
		}
		dwell := float64(next-v.At) / 3600
		remaining := float64(d.DeliveredAt-v.At) / 3600
		// A scan weighs by its day, like its pending count, so that
		// delivery moves exactly that weight from pending to learned.
		vd := v.At - v.At%day
		w := m.weight(vd)
		for _, g := range gs {
			if g == nil {
				continue
			}
			if p := g.Pending[v.Milestone]; p != nil {
				if r := p[vd] - w; r > 1e-9*w {
					p[vd] = r
				} else {
					delete(p, vd)
				}
			}
			for e, edge := range elapsedEdges {
				if e > 0 && edge >= dwell {
					break
				}
				g.hist(g.Remaining, cell{v.Milestone, uint8(e)}).add(remaining-edge, w)
			}
			mhist(g.Dwell, v.Milestone).add(dwell, w)
		}
	}
	if ok[BasisLane] {
		o := m.offers[d.Lane]
		if o == nil {
			o = map[Offer]float64{}
			m.offers[d.Lane] = o
		}
		o[Offer{d.Carrier, d.Service}] += m.weight(d.DeliveredAt)
	}
	m.n++
}

func (m *Model) group(l int, key string) *group {
	g := m.levels[l][key]
	if g == nil {
		g = newGroup()
		m.levels[l][key] = g
	}
	return g
}

func mhist(m map[Milestone]*Hist, k Milestone) *Hist {
	h := m[k]
	if h == nil {
		h = new(Hist)
		m[k] = h
	}
	return h
}

// Offers returns the carriers and services seen delivering on lane, the
// most used first.
func (m *Model) Offers(lane string) []Offer {
	o := m.offers[lane]
	out := make([]Offer, 0, len(o))
	for k := range o {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b Offer) int {
		return cmp.Or(cmp.Compare(o[b], o[a]), strings.Compare(a.Carrier, b.Carrier), strings.Compare(a.Service, b.Service))
	})
	return out
}

// Clone returns a deep copy of m, to learn a new version on while m keeps
// serving predictions.
func (m *Model) Clone() *Model {
	c := New(m.cfg)
	c.version, c.base, c.n, c.gen = m.version, m.base, m.n, m.gen
	cp := func(src map[Milestone]*Hist) map[Milestone]*Hist {
		dst := make(map[Milestone]*Hist, len(src))
		for k, h := range src {
			dst[k] = &Hist{Lo: h.Lo, C: slices.Clone(h.C), N: h.N}
		}
		return dst
	}
	for l, lv := range m.levels {
		for k, g := range lv {
			ng := &group{Remaining: make(map[cell]*Hist, len(g.Remaining)), Dwell: cp(g.Dwell)}
			for ck, h := range g.Remaining {
				ng.Remaining[ck] = &Hist{Lo: h.Lo, C: slices.Clone(h.C), N: h.N}
			}
			ng.Pending = make(map[Milestone]map[uint32]float64, len(g.Pending))
			for k, p := range g.Pending {
				ng.Pending[k] = maps(p)
			}
			c.levels[l][k] = ng
		}
	}
	for lane, o := range m.offers {
		c.offers[lane] = maps(o)
	}
	return c
}

func maps[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// snapshot is the serialised form of a Model.
type snapshot struct {
	Format   int
	HalfLife time.Duration
	Strength float64
	Version  uint32
	Base     uint32
	N        int64
	Levels   [numLevels]map[string]*group
	Offers   map[string]map[Offer]float64
}

const snapshotFormat = 1

// MarshalBinary encodes the model for storage (gob).
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	s := snapshot{snapshotFormat, m.cfg.HalfLife, m.cfg.Strength, m.version, m.base, m.n, m.levels, m.offers}
	if err := gob.NewEncoder(&b).Encode(&s); err != nil {
		return nil, fmt.Errorf("cannot encode the ETA model: %w", err)
	}
	return b.Bytes(), nil
}

// Unmarshal decodes a model written by MarshalBinary.
func Unmarshal(b []byte) (*Model, error) {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return nil, fmt.Errorf("cannot decode the ETA model: %w", err)
	}
	if s.Format != snapshotFormat {
		return nil, fmt.Errorf("cannot decode the ETA model: format %d, want %d", s.Format, snapshotFormat)
	}
	m := New(Config{HalfLife: s.HalfLife, Strength: s.Strength})
	m.version, m.base, m.n = s.Version, s.Base, s.N
	for l, lv := range s.Levels {
		for k, g := range lv {
			if g.Remaining == nil {
				g.Remaining = map[cell]*Hist{}
			}
			if g.Dwell == nil {
				g.Dwell = map[Milestone]*Hist{}
			}
			if g.Pending == nil {
				g.Pending = map[Milestone]map[uint32]float64{}
			}
			m.levels[l][k] = g
		}
	}
	for lane, o := range s.Offers {
		m.offers[lane] = o
	}
	m.gen = uint64(s.Version)<<20 ^ uint64(s.N)
	return m, nil
}

// MilestoneOf returns the milestone a shipment's state stands at.
func MilestoneOf(s *analytics.Shipment) Milestone {
	return NewMilestone(s.LastStatus, s.CustomsInAt != 0)
}

// StatusText is st's display text in lang (en, zh, es, fr, de; others fall
// back to English).
func StatusText(st schemas.Status, lang string) string { return st.Text(lang) }
