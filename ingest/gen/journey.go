package gen

import (
	"math"
	"math/rand/v2"
	"time"
)

// shipment is one parcel of a Run: its attributes, its events in occurred
// order (compact, expanded into schemas.Event only when emitted) and their
// arrival schedule.
type shipment struct {
	idx      int
	order    int64 // order time, Unix seconds
	orderMs  int64
	lane     *laneSpec
	c        *carrier
	svc      *service
	merchant string
	locale   string // the buyer's language on the pre-advice, "" for none
	origin   int    // place the merchant ships from
	dest     int    // place of the recipient
	tracking string
	factor   float64  // this parcel's luck: multiplies every transport leg (run.speed)
	promise  [2]int64 // promised delivery, then an update; Unix seconds
	promised uint64   // per event, 2 bits: 0 no promised_at, 1 promise[0], 2 promise[1]
	bare     bare     // which events omit their countries
	evs      []ev
	arr      []uint64 // arrival ms after order << 8 | event index, sorted
	cur      int      // next arrival to emit

	// Backing arrays for evs and arr, so that a shipment is one block of
	// memory: emitting touches one shipment per event at random, and cache
	// misses are most of the cost. Longer journeys spill to the heap.
	evsBuf [20]ev
	arrBuf [20]uint64
}

// maxEvents bounds the scans of a shipment: the event index must fit the
// low byte of an arrival, two digits of an event_id and two bits each of
// shipment.promised. The longest journey has 22.
const maxEvents = 32

// ev is one scan in 8 bytes. Everything but the time is an index into
// static tables.
type ev struct {
	off  uint32 // seconds after the order time
	scan uint16 // index into scans
	loc  uint16 // (place+1)<<2 | locPostal | locCoords; 0 for none
}

const (
	locPostal uint16 = 1
	locCoords uint16 = 2
)

func lp(place int, flags uint16) uint16 { return uint16(place+1)<<2 | flags }

func (s *shipment) nextArrival() int64 { return s.orderMs + int64(s.arr[s.cur]>>8) }

func (s *shipment) lastTime() int64 { return s.order + int64(s.evs[len(s.evs)-1].off) }

// leg is a stretch of a journey with its own duration distribution.
type leg uint8

const (
	lgInfo      leg = iota // order to label
	lgPickup               // label to first carrier scan
	lgToHub                // pickup to origin sorting centre
	lgHubDwell             // sorting
	lgToExport             // consolidation and export clearance
	lgToDepart             // waiting for the flight or truck
	lgLinehaul             // flight or truck to the destination country
	lgToCustoms            // arrival to clearance start
	lgCustoms              // import clearance without a hold
	lgHold                 // extra dwell of a customs hold
	lgToDestHub            // gateway to delivery facility
	lgHandover             // to the last-mile partner
	lgLastMile             // delivery facility to the delivery round
	lgCollect              // waiting at a pickup point for the recipient
	numLegs
)

// lognorm is a log-normal duration: median hours and the sigma of its log.
type lognorm struct{ med, sigma float64 }

// legTables gives each speed class its leg durations. Log-normal legs, a
// per-parcel luck factor and customs holds together make the long right
// tails seen in real transit times; economy legs have the widest spread.
var legTables = [numClasses][numLegs]lognorm{
	express: {
		lgInfo: {1, 0.8}, lgPickup: {5, 0.8}, lgToHub: {3, 0.5}, lgHubDwell: {4, 0.5},
		lgToExport: {5, 0.5}, lgToDepart: {4, 0.5}, lgLinehaul: {20, 0.35}, lgToCustoms: {2, 0.6},
		lgCustoms: {5, 0.9}, lgHold: {40, 0.7}, lgToDestHub: {6, 0.5}, lgHandover: {2, 0.5},
		lgLastMile: {6, 0.6}, lgCollect: {30, 0.8},
	},
	standard: {
		lgInfo: {2, 1}, lgPickup: {20, 0.9}, lgToHub: {8, 0.6}, lgHubDwell: {14, 0.6},
		lgToExport: {30, 0.7}, lgToDepart: {18, 0.6}, lgLinehaul: {60, 0.5}, lgToCustoms: {8, 0.7},
		lgCustoms: {20, 0.9}, lgHold: {90, 0.7}, lgToDestHub: {24, 0.6}, lgHandover: {8, 0.6},
		lgLastMile: {30, 0.6}, lgCollect: {40, 0.8},
	},
	economy: {
		lgInfo: {3, 1}, lgPickup: {30, 1}, lgToHub: {14, 0.7}, lgHubDwell: {26, 0.7},
		lgToExport: {56, 0.8}, lgToDepart: {32, 0.8}, lgLinehaul: {96, 0.6}, lgToCustoms: {20, 0.8},
		lgCustoms: {40, 1}, lgHold: {130, 0.7}, lgToDestHub: {40, 0.7}, lgHandover: {16, 0.7},
		lgLastMile: {50, 0.7}, lgCollect: {48, 0.8},
	},
	road: {
		lgInfo: {1, 0.8}, lgPickup: {12, 0.8}, lgToHub: {4, 0.5}, lgHubDwell: {4, 0.5},
		lgToExport: {8, 0.6}, lgToDepart: {3, 0.5}, lgLinehaul: {20, 0.4}, lgToCustoms: {4, 0.7},
		lgCustoms: {10, 0.9}, lgHold: {60, 0.7}, lgToDestHub: {6, 0.5}, lgHandover: {2, 0.5},
		lgLastMile: {8, 0.6}, lgCollect: {36, 0.8},
	},
}

// promiseDays is the business days a carrier promises per class, before
// lane extras and the carrier's optimism.
var promiseDays = [numClasses]float64{express: 5, standard: 13, economy: 21, road: 4.5}

// fate is decided before the journey: most parcels run their course, a few
// never leave the merchant or vanish.
type fate uint8

const (
	fateNormal   fate = iota
	fateInfoOnly      // label printed, never handed over
	fateLost          // scans stop somewhere along the way
	fateLostScan      // scans stop, then an exception (lost, damaged) ends it
)

const infoOnlyRate = 0.02

// bare says which events of a shipment omit origin_country and
// destination_country.
type bare uint8

const (
	bareNone      bare = iota
	bareFirstDest      // the first scan has no destination_country
	bareFirstBoth      // the first scan has neither country
	bareAll            // no scan has a country: the shipment has no lane
)

var (
	lostRate     = [numClasses]float64{express: 0.004, standard: 0.012, economy: 0.02, road: 0.006}
	lostScanRate = [numClasses]float64{express: 0.003, standard: 0.006, economy: 0.01, road: 0.004}
)

const day = 86400

// shipment builds shipment i. Each shipment draws from its own random
// stream, seeded from the Seed and i, so that a shipment does not change
// when the rates that decide arrivals do.
func (r *run) shipment(i int) *shipment {
	var s *shipment
	if n := len(r.free); n > 0 {
		s = r.free[n-1]
		r.free = r.free[:n-1]
	} else {
		s = new(shipment)
		s.evs, s.arr = s.evsBuf[:0], s.arrBuf[:0]
	}
	a, f := r.attributes(s, i)
	s.locale = r.g.locale(s)
	r.route(s, f)
	if f == fateLost || f == fateLostScan {
		r.vanish(s, f == fateLostScan, journeyLimit)
	}
	r.promise(s)
	r.quirks(s, a)
	r.arrivals(s)
	return s
}

// attributes seeds the main stream for shipment i and draws everything
// decided before the journey: order time, lane, carrier, product, merchant,
// recipient, tracking number, luck and fate. It returns the seed a, from
// which the quirks stream is seeded too, and the fate.
func (r *run) attributes(s *shipment, i int) (a uint64, f fate) {
	g := r.g
	a = splitmix(splitmix(uint64(g.cfg.Seed)) ^ uint64(i))
	r.pcg.Seed(a, splitmix(a^0xda942042e4dd58b5))
	rng := r.rng

	s.idx, s.cur = i, 0
	s.order = g.start + int64((float64(i)+rng.Float64())*float64(g.span)/float64(g.cfg.Shipments))
	s.orderMs = s.order * 1000
	ln := lanes[pickCum(lanesW, rng.Float64()*lanesW[len(lanesW)-1])]
	of := &ln.offers[pickCum(ln.offersW, rng.Float64()*ln.offersW[len(ln.offersW)-1])]
	s.lane, s.c = ln, of.c
	s.svc = &of.services[pickCum(of.servicesW, rng.Float64()*of.servicesW[len(of.servicesW)-1])]
	o := ln.o
	m := &o.merchants[pickCum(o.merchantsW, rng.Float64()*o.merchantsW[len(o.merchantsW)-1])]
	s.merchant, s.origin = m.id, m.city
	d := ln.d
	s.dest = d.people[pickCum(d.peopleW, rng.Float64()*d.peopleW[len(d.peopleW)-1])]
	s.tracking = r.trackingNumber(s, m)
	s.factor = drawLuck(rng)

	f = fateNormal
	cls := s.svc.class
	switch x := rng.Float64(); {
	case x < infoOnlyRate:
		f = fateInfoOnly
	case x < infoOnlyRate+lostRate[cls]*s.c.lost:
		f = fateLost
	case x < infoOnlyRate+(lostRate[cls]+lostScanRate[cls])*s.c.lost:
		f = fateLostScan
	}

	return a, f
}

// luckSigma is the sigma of the log of a parcel's luck factor.
const luckSigma = 0.22

// drawLuck draws a parcel's luck factor, the log-normal multiplier of its
// transport legs, from rng.
func drawLuck(rng *rand.Rand) float64 {
	return math.Exp(luckSigma * clampNorm(rng.NormFloat64()))
}

// speed is the multiplier of the transport legs of s that are drawn now:
// its product's speed times its luck. In a luck-free oracle's
// continuation, the legs drawn after the fork take the luck that the
// continuation drew afresh instead (see fork).
func (r *run) speed(s *shipment) float64 {
	if f := r.fork; f != nil && f.luckFree && f.forked() {
		return s.svc.speed * f.luck
	}
	return s.svc.speed * s.factor
}

// journeyLimit is MaxJourney in seconds, and lastTry the last redraw of an
// overlong journey before it is compressed.
const (
	journeyLimit = int64(MaxJourney / time.Second)
	lastTry      = 3
)

// route draws the journey of s, redrawing it while it runs past MaxJourney
// and compressing the last attempt if that one does too. It returns the
// state of the main stream at the start of the attempt kept, from which the
// oracle continues the journey, and whether that attempt was compressed.
func (r *run) route(s *shipment, f fate) (start rand.PCG, squeezed bool) {
	for try := 0; ; try++ {
		start = r.pcg
		r.journey(s, f)
		if s.lastTime()-s.order < journeyLimit || try == lastTry {
			break
		}
	}
	if s.lastTime()-s.order >= journeyLimit {
		s.compress(journeyLimit)
		squeezed = true
	}
	return start, squeezed
}

// quirks decides how carriers misreport s: countries left out of its first
// scan or of all its scans, and scans that share the second of the scan
// before them. The scans stay in order; a tie only moves a scan earlier, to
// the time of the one before, so every other property of the journey holds.
// The quirks draw from a stream of their own, seeded from a like the
// shipment's main stream.
func (r *run) quirks(s *shipment, a uint64) {
	r.qpcg.Seed(splitmix(a^0x6a09e667f3bcc909), splitmix(a^0xbb67ae8584caa73b))
	g, rng := r.g, r.qrng
	s.bare = bareNone
	all, first, half := rng.Float64(), rng.Float64(), rng.IntN(2)
	switch {
	case all < g.allBare:
		s.bare = bareAll
	case first < g.firstBare:
		s.bare = bareFirstDest + bare(half)
	}
	tied := false
	for k := 1; k < len(s.evs); k++ {
		x := rng.Float64() // drawn for every scan, so ties depend on TieRate alone
		if !tied && x < g.tie {
			s.evs[k].off = s.evs[k-1].off
			tied = true
			continue
		}
		tied = false
	}
}

// journey writes the scans of s in occurred order.
func (r *run) journey(s *shipment, f fate) {
	s.evs = s.evs[:0]
	rng := r.rng
	c, ln, sv := s.c, s.lane, s.svc
	o, d := ln.o, ln.d
	lt := &legTables[sv.class]
	var geo uint16
	if c.coords {
		geo = locCoords
	}

	t := s.order + r.dur(lt[lgInfo], 1)
	var infoLoc uint16
	if rng.IntN(2) == 0 {
		infoLoc = lp(o.all, 0)
	}
	t = r.add(s, kInfo, t, infoLoc)
	if f == fateInfoOnly {
		return
	}
	t = r.add(s, kPickup, r.daytime(t+r.dur(lt[lgPickup], r.speed(s)), o.off, 8, 20, false), lp(s.origin, geo))
	hub := nearestHub[s.origin]
	if rng.IntN(10) < 3 { // a consolidator's hub elsewhere
		hub = o.hubs[rng.IntN(len(o.hubs))]
	}
	t = r.add(s, kHubIn, t+r.dur(lt[lgToHub], r.speed(s)), lp(hub, geo))
	t += r.dur(lt[lgHubDwell], r.speed(s))
	if r.chance(c.density) {
		t = r.add(s, kHubOut, t, lp(hub, geo))
	}
	if ln.customs {
		gw := o.gws[rng.IntN(len(o.gws))]
		t = r.add(s, kExport, t+r.dur(lt[lgToExport], r.speed(s)), lp(gw, geo))
		t = r.add(s, kDepart, t+r.dur(lt[lgToDepart], r.speed(s)), lp(gw, geo))
	} else {
		t = r.add(s, kDepart, t+r.dur(lt[lgToDepart], r.speed(s)), lp(hub, geo))
	}

	lh := r.dur(lt[lgLinehaul], r.speed(s)*ln.dist)
	if (sv.class == economy || sv.class == standard) && len(d.transits) > 0 && r.chance(0.3) {
		part := lh * 2 / 5
		t = r.add(s, kTransitHub, t+part, lp(d.transits[rng.IntN(len(d.transits))], geo))
		lh -= part
	}
	arrive := d.hubs[rng.IntN(len(d.hubs))]
	if ln.customs {
		arrive = d.gws[rng.IntN(len(d.gws))]
	}
	t = r.add(s, kArrive, t+lh, lp(arrive, geo))

	if ln.customs {
		cl := lp(arrive, geo)
		if rng.IntN(10) < 3 {
			cl = lp(d.all, 0)
		}
		t = r.add(s, kCustoms, t+r.dur(lt[lgToCustoms], 1), cl)
		hold := ln.hold
		if sv.class == express {
			hold *= 0.6
		}
		if r.chance(hold) {
			t = r.add(s, kHeld, t+r.dur(lt[lgCustoms], ln.slow)/2, cl)
			t += r.dur(lt[lgHold], ln.slow)
			switch x := rng.Float64(); {
			case x < 0.10: // duties refused: back to the sender
				t = r.add(s, kReturnCustoms, t, cl)
				r.sendBack(s, t)
				return
			case x < 0.15: // prohibited goods
				r.add(s, kSeized, t, cl)
				return
			}
			t = r.add(s, kReleased, t, cl)
		} else {
			t += r.dur(lt[lgCustoms], ln.slow)
			// Not every carrier reports the release; then the customs
			// dwell ends at the next delivery scan.
			if r.chance(0.7 + c.density*0.3) {
				t = r.add(s, kReleased, t, cl)
			}
		}
	}
	if r.chance(0.015) {
		t = r.add(s, kDelay, t+r.dur(lt[lgToDestHub], r.speed(s))/2, s.evs[len(s.evs)-1].loc)
		t += day + rng.Int64N(2*day)
	}
	t = r.add(s, kDestHub, t+r.dur(lt[lgToDestHub], r.speed(s)), lp(nearestHub[s.dest], geo))
	if c.handover {
		t = r.add(s, kHandover, t+r.dur(lt[lgHandover], r.speed(s)), lp(s.dest, geo))
	}
	r.lastMile(s, t+r.dur(lt[lgLastMile], r.speed(s)), geo)
}

// lastMile writes the delivery attempts from t on: a pickup point straight
// away, or rounds until delivered, with a notice after failed attempts.
func (r *run) lastMile(s *shipment, t int64, geo uint16) {
	rng := r.rng
	c, d := s.c, s.lane.d
	door := lp(s.dest, locPostal|geo)
	locker := c.locker
	switch d.code {
	case "DE", "FR", "ES": // parcel shops and lockers are popular
		locker *= 2
	}
	if r.chance(locker) {
		t = r.add(s, kPickupPoint, r.daytime(t, d.off, 7, 21, false), door)
		r.collect(s, t, door)
		return
	}
	for fails := 0; ; {
		t = r.add(s, kOFD, r.morning(t, d.off), lp(s.dest, geo))
		t += 3600 + rng.Int64N(9*3600)
		p := c.failRate
		if fails > 0 {
			p = 0.3
		}
		if r.chance(p) {
			t = r.add(s, kFailed, t, door)
			fails++
			if fails == 2 || c.postal && r.chance(0.6) {
				t = r.add(s, kPickupPoint, t+1800+rng.Int64N(4*3600), door)
				r.collect(s, t, door)
				return
			}
			continue
		}
		if r.chance(0.004) {
			t = r.add(s, kReturnRefused, t, door)
			r.sendBack(s, t)
			return
		}
		r.add(s, kDelivered, t, door)
		return
	}
}

// collect ends a parcel waiting at a pickup point: collected, or returned
// when nobody comes within the holding period.
func (r *run) collect(s *shipment, t int64, at uint16) {
	if r.chance(0.15) {
		t = r.add(s, kReturnUnclaimed, t+9*day+r.rng.Int64N(5*day), at)
		r.sendBack(s, t)
		return
	}
	lt := &legTables[s.svc.class]
	r.add(s, kDelivered, r.daytime(t+r.dur(lt[lgCollect], 1), s.lane.d.off, 9, 19, true), at)
}

// sendBack sometimes reports the return reaching the sender.
func (r *run) sendBack(s *shipment, t int64) {
	if r.chance(0.5) {
		r.add(s, kReturned, t+r.dur(lognorm{6 * 24, 0.5}, 1), lp(s.origin, 0))
	}
}

// vanish cuts the scans of a lost parcel somewhere between its pickup and
// its delivery round, and maybe adds the carrier's exception.
func (r *run) vanish(s *shipment, scan bool, limit int64) {
	end := len(s.evs)
loop:
	for k, x := range s.evs {
		switch scans[x.scan].kind {
		case kOFD, kFailed, kPickupPoint, kDelivered, kReturnUnclaimed, kReturnRefused, kReturnCustoms, kReturned, kSeized:
			end = k
			break loop
		}
	}
	if end > 2 {
		s.evs = s.evs[:2+r.rng.IntN(end-1)]
	}
	if scan {
		last := s.lastTime()
		t := min(last+r.dur(lognorm{8 * 24, 0.5}, 1), s.order+limit-3600)
		r.add(s, kLost, t, s.evs[len(s.evs)-1].loc)
	}
}

// compress squeezes an overlong journey into limit; it is the last resort
// after redrawing, so it touches very few parcels.
func (s *shipment) compress(limit int64) {
	scale := float64(limit) * 0.97 / float64(s.evs[len(s.evs)-1].off)
	for k := range s.evs {
		s.evs[k].off = uint32(float64(s.evs[k].off) * scale)
		if k > 0 && s.evs[k].off < s.evs[k-1].off+60 {
			s.evs[k].off = s.evs[k-1].off + 60
		}
	}
}

// promise sets the promised delivery dates of s and which events repeat
// them: all, some, or only the first and the one that updates it.
func (r *run) promise(s *shipment) {
	rng := r.rng
	s.promise, s.promised = [2]int64{}, 0
	if r.chance(s.c.noPromise) {
		return
	}
	cls := s.svc.class
	extra := float64(s.lane.extra)
	if cls == express {
		extra *= 0.3
	}
	days := int((promiseDays[cls]*s.svc.speed+extra)*s.c.optimism + rng.Float64()*2 - 0.5)
	days = max(days, 1)
	off := s.lane.d.off
	s.promise[0] = endOfDay(addBusinessDays(localDay(s.order, off), days), off)

	update := -1
	held := false
	for k, x := range s.evs {
		if scans[x.scan].kind == kHeld {
			held = true
			if k+1 < len(s.evs) {
				update = k + 1
			}
			break
		}
	}
	if !held || !r.chance(0.5) {
		update = -1
	}
	if update < 0 && len(s.evs) >= 4 && r.chance(0.05) {
		update = len(s.evs)/2 + rng.IntN(len(s.evs)/2-1)
	}
	if update >= 0 {
		s.promise[1] = endOfDay(addBusinessDays(localDay(s.promise[0], off), 2+rng.IntN(5)), off)
	}

	mode := rng.IntN(20) // 0-10 every event, 11-16 some, 17-19 first only
	for k := range s.evs {
		p := uint64(1)
		if update >= 0 && k >= update {
			p = 2
		}
		carry := mode <= 10 || k == 0 || k == update
		if !carry && mode <= 16 {
			carry = scans[s.evs[k].scan].kind == kOFD || r.chance(0.35)
		}
		if carry {
			s.promised |= p << (2 * k)
		}
	}
}

// arrivals schedules when each event reaches the stream: after a small
// processing delay and in scan order, except for the late ones, which come
// hours to days after the next scan of the same shipment has arrived, and
// for duplicates, which come a second time.
func (r *run) arrivals(s *shipment) {
	g, rng := r.g, r.rng
	n := len(s.evs)
	at := r.at[:0] // ms after the order; -1 marks a late event
	var prev int64
	for k := range n {
		if k < n-1 && g.disorder > 0 && rng.Float64() < g.disorder {
			at = append(at, -1)
			continue
		}
		prev = max(int64(s.evs[k].off)*1000+r.ms(20, 1.2, 1, 1800), prev+1)
		at = append(at, prev)
	}
	// Backwards, so that a late event follows its successor's final arrival
	// even when that one is late too.
	for k := n - 2; k >= 0; k-- {
		if at[k] < 0 {
			at[k] = at[k+1] + r.ms(8*3600, 1.2, 3600, 5*day)
		}
	}
	s.arr = s.arr[:0]
	for k, a := range at {
		s.arr = append(s.arr, uint64(a)<<8|uint64(k))
		if g.duplicate > 0 && rng.Float64() < g.duplicate {
			var dd int64
			if rng.IntN(10) == 0 { // a webhook retried much later
				dd = r.ms(6*3600, 0.8, 3600, 3*day)
			} else {
				dd = r.ms(60, 1.5, 1, 7200)
			}
			s.arr = append(s.arr, uint64(a+dd)<<8|uint64(k))
		}
	}
	r.at = at
	for i := 1; i < len(s.arr); i++ {
		for j := i; j > 0 && s.arr[j] < s.arr[j-1]; j-- {
			s.arr[j], s.arr[j-1] = s.arr[j-1], s.arr[j]
		}
	}
}

// add appends a scan of kind k at t (Unix seconds), at least a minute after
// the previous one, and returns its time.
func (r *run) add(s *shipment, k kind, t int64, loc uint16) int64 {
	if s.c.minutes {
		t -= t % 60
	}
	if n := len(s.evs); n > 0 {
		t = max(t, s.order+int64(s.evs[n-1].off)+60)
	} else {
		t = max(t, s.order+60)
	}
	if len(s.evs) == maxEvents {
		panic("gen: a journey has more than maxEvents scans")
	}
	rg := s.c.ranges[k]
	sc := rg.first
	if rg.n > 1 {
		sc += uint16(r.rng.IntN(int(rg.n)))
	}
	s.evs = append(s.evs, ev{off: uint32(t - s.order), scan: sc, loc: loc})
	return t
}

// dur draws a duration in seconds from l, scaled by mult. An oracle's
// continuation recalls the durations of the prefix it replays
// rather than computing them again (see fork).
func (r *run) dur(l lognorm, mult float64) int64 {
	f := r.fork
	if f != nil && f.replaying() && f.k < len(f.durs) {
		return f.recall()
	}
	d := int64(l.med*mult*math.Exp(l.sigma*clampNorm(r.rng.NormFloat64()))*3600) + 1
	if f != nil && f.replaying() {
		f.remember(d)
	}
	return d
}

// ms draws a log-normal delay in milliseconds with the given median seconds,
// kept within [lo, hi] seconds.
func (r *run) ms(med, sigma, lo, hi float64) int64 {
	v := med * math.Exp(sigma*r.rng.NormFloat64())
	return int64(min(max(v, lo), hi) * 1000)
}

func (r *run) chance(p float64) bool { return r.rng.Float64() < p }

// daytime moves t (Unix seconds) forward into local hours [from, to) of a
// country at UTC offset off hours, skipping Sundays when asked.
func (r *run) daytime(t, off, from, to int64, noSunday bool) int64 {
	lt := t + off*3600
	dd := floorDiv(lt, day)
	sec := lt - dd*day
	switch {
	case sec < from*3600:
		sec = from*3600 + r.rng.Int64N(3600)
	case sec >= to*3600:
		dd++
		sec = from*3600 + r.rng.Int64N(3600)
	}
	if noSunday && weekday(dd) == 0 {
		dd++
	}
	return dd*day + sec - off*3600
}

// morning returns the start of the next delivery round after t: 07:00-10:00
// local, the same day when the parcel is in before 05:00, never on Sunday.
func (r *run) morning(t, off int64) int64 {
	lt := t + off*3600
	dd := floorDiv(lt, day)
	if lt-dd*day >= 5*3600 {
		dd++
	}
	if weekday(dd) == 0 {
		dd++
	}
	return dd*day + 7*3600 + r.rng.Int64N(3*3600) - off*3600
}

// localDay is the day number (days since 1970-01-01) of t at offset off.
func localDay(t, off int64) int64 { return floorDiv(t+off*3600, day) }

// endOfDay is 23:59:59 local of day dd, in Unix seconds.
func endOfDay(dd, off int64) int64 { return (dd+1)*day - 1 - off*3600 }

func addBusinessDays(dd int64, n int) int64 {
	for n > 0 {
		dd++
		if wd := weekday(dd); wd != 0 && wd != 6 {
			n--
		}
	}
	return dd
}

// weekday of day number dd, 0 for Sunday; 1970-01-01 was a Thursday.
func weekday(dd int64) int64 { return ((dd+4)%7 + 7) % 7 }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func clampNorm(z float64) float64 { return min(max(z, -3), 3.5) }

// pickCum returns the index of the first cumulative weight above x.
func pickCum(cum []float64, x float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// splitmix is the SplitMix64 finaliser, a bijection on uint64.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
