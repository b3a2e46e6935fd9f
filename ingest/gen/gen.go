package gen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

func init() {
	initPlaces()
	initMerchants()
	initScans()
	initLanes()
	initLocales()
}

// Generator produces one workload. It holds only its configuration: every
// Run starts afresh and emits the same events in the same order, and
// concurrent Runs are safe.
type Generator struct {
	cfg       Config
	start     int64 // seconds
	span      int64 // seconds
	disorder  float64
	duplicate float64
	firstBare float64 // FirstScanNoCountryRate
	allBare   float64 // NoCountryRate
	tie       float64
}

// New returns a generator for c after filling in defaults and validating it.
func New(c Config) (*Generator, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:       c,
		start:     c.Start.Unix(),
		span:      int64(c.Span / time.Second),
		disorder:  max(c.DisorderRate, 0),
		duplicate: max(c.DuplicateRate, 0),
		firstBare: max(c.FirstScanNoCountryRate, 0),
		allBare:   max(c.NoCountryRate, 0),
		tie:       max(c.TieRate, 0),
	}
	return g, nil
}

// Config returns the configuration of g, defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Carriers lists the codes of the modelled carriers.
func Carriers() []string {
	out := make([]string, len(carriers))
	for i, c := range carriers {
		out[i] = c.code
	}
	return out
}

// Lanes lists the modelled lanes as "CN-US" style codes, Chinese exports
// first.
func Lanes() []string {
	out := make([]string, len(lanes))
	for i, l := range lanes {
		out[i] = l.code
	}
	return out
}

// Run emits every event in arrival order, the order a Kafka topic fed by
// carrier webhooks would see them, and returns nil when all are out. It
// stops early with ctx's error when ctx is done, or with emit's error.
//
// The event emit receives, with its Location, is a buffer that Run reuses
// for the next event: emit must copy what it keeps (Events does) and must
// not hold on to the pointers.
//
// Run streams: it holds only the shipments whose events have not all
// arrived yet, so its memory follows the shipments in flight (under a
// kilobyte each), not the total.
func (g *Generator) Run(ctx context.Context, emit func(*schemas.Event) error) error {
	return newRun(g).run(ctx, emit)
}

func (r *run) run(ctx context.Context, emit func(*schemas.Event) error) error {
	g := r.g
	done := ctx.Done()
	check := func() error {
		select {
		case <-done:
			return ctx.Err()
		default:
			return nil
		}
	}
	// Shipments come in order-time order, and every event arrives after
	// its shipment's order time, so whatever arrives before the next order
	// time is final and can go out.
	for i := range g.cfg.Shipments {
		s := r.shipment(i)
		for r.q.next(s.orderMs) {
			if err := r.emitNext(emit); err != nil {
				return err
			}
			if r.emitted&255 == 0 {
				if err := check(); err != nil {
					return err
				}
			}
		}
		if i&63 == 0 {
			if err := check(); err != nil {
				return err
			}
		}
		r.q.insert(slot{at: s.nextArrival(), s: s})
		r.peak = max(r.peak, r.q.len())
	}
	for r.q.next(math.MaxInt64) {
		if err := r.emitNext(emit); err != nil {
			return err
		}
		if r.emitted&255 == 0 {
			if err := check(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Events runs g to completion and returns its events in arrival order, each
// a copy that the caller owns.
func (g *Generator) Events() []schemas.Event {
	out := make([]schemas.Event, 0, min(g.cfg.Shipments*13, 1<<20))
	var locs []schemas.Location
	var coords []float64
	_ = g.Run(context.Background(), func(e *schemas.Event) error {
		c := *e
		if e.Location != nil {
			// Allocate in slabs: one allocation per thousand events.
			if len(locs) == cap(locs) {
				locs = make([]schemas.Location, 0, 1024)
			}
			locs = append(locs, *e.Location)
			l := &locs[len(locs)-1]
			if l.Lat != nil {
				if len(coords)+2 > cap(coords) {
					coords = make([]float64, 0, 2048)
				}
				coords = append(coords, *l.Lat, *l.Lon)
				l.Lat, l.Lon = &coords[len(coords)-2], &coords[len(coords)-1]
			}
			c.Location = l
		}
		out = append(out, c)
		return nil
	})
	return out
}

// run is the state of one Run.
type run struct {
	g   *Generator
	pcg rand.PCG
	rng *rand.Rand
	// A second stream per shipment for the reporting quirks (missing
	// countries, tied times), so that their rates change nothing else.
	qpcg rand.PCG
	qrng *rand.Rand
	q    queue
	free []*shipment // retired shipments, for reuse
	// fork, set only in an Oracle's runs, is rng's source there: it
	// switches a continuation to its own stream (see oracle.go).
	fork *fork

	emitted uint64
	peak    int // most shipments in flight, for tests

	// Buffers behind the event handed to emit.
	ev       schemas.Event
	loc      schemas.Location
	lat, lon float64
	id       []byte
	tbuf     []byte
	at       []int64 // arrivals scratch
}

func newRun(g *Generator) *run {
	r := &run{g: g, q: newQueue(g.start * 1000)}
	r.rng = rand.New(&r.pcg)
	r.qrng = rand.New(&r.qpcg)
	return r
}

// emitNext emits the earliest arrival and moves its shipment on to its
// next arrival, or retires it.
func (r *run) emitNext(emit func(*schemas.Event) error) error {
	s := r.q.heap[0].s
	r.fill(s, int(s.arr[s.cur]&0xff))
	r.emitted++
	if err := emit(&r.ev); err != nil {
		return fmt.Errorf("cannot emit event %s: %w", r.ev.EventID, err)
	}
	s.cur++
	if s.cur < len(s.arr) {
		r.q.moveTop(s.nextArrival())
	} else {
		r.q.popTop()
		r.free = append(r.free, s)
	}
	return nil
}

// fill writes event k of s into the emit buffers.
func (r *run) fill(s *shipment, k int) {
	x := &s.evs[k]
	sc := &scans[x.scan]
	e := &r.ev
	e.EventID = r.eventID(s, k)
	e.TrackingNumber = s.tracking
	e.Carrier = s.c.code
	e.Service = s.svc.name
	e.OriginCountry = s.lane.from
	e.DestinationCountry = s.lane.to
	switch {
	case s.bare == bareAll, s.bare == bareFirstBoth && k == 0:
		e.OriginCountry, e.DestinationCountry = "", ""
	case s.bare == bareFirstDest && k == 0:
		e.DestinationCountry = ""
	}
	e.Status = kindStatus[sc.kind]
	e.CarrierStatus = sc.code
	e.Description = sc.desc
	e.OccurredAt = time.Unix(s.order+int64(x.off), 0).UTC()
	e.Location = nil
	if x.loc != 0 {
		p := &places[x.loc>>2-1]
		r.loc = schemas.Location{Country: p.country, City: p.city}
		if x.loc&locPostal != 0 {
			r.loc.PostalCode = p.postal
		}
		if x.loc&locCoords != 0 && p.city != "" {
			r.lat, r.lon = p.lat, p.lon
			r.loc.Lat, r.loc.Lon = &r.lat, &r.lon
		}
		e.Location = &r.loc
	}
	switch s.promised >> (2 * k) & 3 {
	case 1:
		e.PromisedAt = time.Unix(s.promise[0], 0).UTC()
	case 2:
		e.PromisedAt = time.Unix(s.promise[1], 0).UTC()
	default:
		e.PromisedAt = time.Time{}
	}
	e.Merchant = s.merchant
	// The buyer's language comes with the merchant's pre-advice; carriers
	// do not know it.
	e.Locale = ""
	if sc.kind == kInfo {
		e.Locale = s.locale
	}
}

// eventID is "<carrier>:<tracking number>:<sequence>", the sequence being the
// event's rank in scan order (occurred_at order, scans in the same second in
// the order they were made); a duplicate builds the same id.
func (r *run) eventID(s *shipment, k int) string {
	b := append(r.id[:0], s.c.code...)
	b = append(b, ':')
	b = append(b, s.tracking...)
	b = append(b, ':', byte('0'+k/10), byte('0'+k%10))
	r.id = b
	return string(b)
}
