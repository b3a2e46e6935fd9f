package analytics

import "unique"

// The daily aggregates are what dashboards and reports read: per carrier,
// lane, service, merchant and UTC day, the counts of delivered, with_promise
// and on_time shipments, the transit and customs-dwell sketch buckets, and
// the exceptions by type. A shipment adds to them what its state says
// (its contribution): its delivery figures on the day of its first
// delivered event, its first exception on that event's day, and each
// exception type on the day of that type's first event. When a shipment's
// state changes, the aggregates change by the new contribution minus the
// old one, which moves a shipment from one day to another when a late,
// earlier delivered event turns up. Days holds such a change for many
// shipments at once.

// Contribution is what one shipment adds to the daily aggregates, in a
// comparable form: two states with equal contributions need no write.
type Contribution struct {
	carrier, lane, service, merchant unique.Handle[string]

	DeliveredAt                  uint32 // 0: not delivered, nothing below counts
	Transit, Customs             int16  // sketch buckets
	CustomsDone, Promise, OnTime bool
	ExceptionAt                  uint32
	TypeAt                       [NumExceptionTypes]uint32
}

// Contribution returns what s adds to the daily aggregates.
func (s *Shipment) Contribution() Contribution {
	c := Contribution{carrier: s.carrier, lane: s.lane, service: s.service, merchant: s.merchant,
		ExceptionAt: s.ExceptionAt, TypeAt: s.TypeAt}
	if s.DeliveredAt != never {
		// A delivery with no start (every other event is info_received)
		// counts with zero transit, as the shipment facts have it.
		h, _ := s.TransitHours()
		c.DeliveredAt, c.Transit = s.DeliveredAt, Bucket(h)
		if d, ok := s.CustomsDwellHours(); ok {
			c.CustomsDone, c.Customs = true, Bucket(d)
		}
		c.Promise = s.HasPromise()
		c.OnTime, _ = s.OnTime()
	}
	return c
}

// Empty reports whether c adds nothing.
func (c Contribution) Empty() bool {
	return c.DeliveredAt == never && c.ExceptionAt == never
}

// DayKey names one row of the daily aggregates.
type DayKey struct {
	Day                              uint32 // Unix seconds of the UTC day's midnight
	Carrier, Lane, Service, Merchant string
}

// DayCell is one row of the daily aggregates, or a change to one: counts
// may be negative.
type DayCell struct {
	Delivered, WithPromise, OnTime int64
	Exceptions                     int64 // shipments whose first exception is on this day
	ByType                         [NumExceptionTypes]int64
	Transit, Customs               map[int16]int64 // sketch bucket → shipments
}

// Days is a set of changes to the daily aggregates. The zero value is empty
// and ready to use.
type Days struct {
	cells map[DayKey]*DayCell
}

func (d *Days) cell(c *Contribution, day uint32) *DayCell {
	k := DayKey{Day: day - day%86400, Carrier: value(c.carrier), Lane: value(c.lane), Service: value(c.service), Merchant: value(c.merchant)}
	if d.cells == nil {
		d.cells = make(map[DayKey]*DayCell)
	}
	x := d.cells[k]
	if x == nil {
		x = &DayCell{}
		d.cells[k] = x
	}
	return x
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func addBucket(m *map[int16]int64, b int16, n int64) {
	if *m == nil {
		*m = make(map[int16]int64)
	}
	(*m)[b] += n
	if (*m)[b] == 0 {
		delete(*m, b)
	}
}

// Add adds c, times sign (+1 or -1), to d.
func (d *Days) Add(c *Contribution, sign int64) {
	if c.DeliveredAt != never {
		x := d.cell(c, c.DeliveredAt)
		x.Delivered += sign
		x.WithPromise += sign * b2i(c.Promise)
		x.OnTime += sign * b2i(c.Promise && c.OnTime)
		addBucket(&x.Transit, c.Transit, sign)
		if c.CustomsDone {
			addBucket(&x.Customs, c.Customs, sign)
		}
	}
	if c.ExceptionAt != never {
		d.cell(c, c.ExceptionAt).Exceptions += sign
	}
	for i, at := range c.TypeAt {
		if at != never {
			d.cell(c, at).ByType[i] += sign
		}
	}
}

// Change adds the change from contribution from to contribution to.
func (d *Days) Change(from, to *Contribution) {
	if *from == *to {
		return
	}
	d.Add(from, -1)
	d.Add(to, 1)
}

// Each calls fn for every cell with a non-zero change, in no fixed order.
func (d *Days) Each(fn func(k DayKey, c *DayCell)) {
	for k, c := range d.cells {
		if !c.zero() {
			fn(k, c)
		}
	}
}

// Len returns the number of cells, some of which may hold no change.
func (d *Days) Len() int { return len(d.cells) }

// Merge adds every change of o to d.
func (d *Days) Merge(o *Days) {
	for k, c := range o.cells {
		if d.cells == nil {
			d.cells = make(map[DayKey]*DayCell)
		}
		x := d.cells[k]
		if x == nil {
			x = &DayCell{}
			d.cells[k] = x
		}
		x.Delivered += c.Delivered
		x.WithPromise += c.WithPromise
		x.OnTime += c.OnTime
		x.Exceptions += c.Exceptions
		for i := range c.ByType {
			x.ByType[i] += c.ByType[i]
		}
		for b, n := range c.Transit {
			addBucket(&x.Transit, b, n)
		}
		for b, n := range c.Customs {
			addBucket(&x.Customs, b, n)
		}
	}
}

func (c *DayCell) zero() bool {
	return c.Delivered == 0 && c.WithPromise == 0 && c.OnTime == 0 && c.Exceptions == 0 &&
		c.ByType == [NumExceptionTypes]int64{} && len(c.Transit) == 0 && len(c.Customs) == 0
}
