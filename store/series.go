package store

import (
	"context"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
)

// The time series of the dashboards, read from the daily aggregates. Their
// SQL is here and only here: seriesSQL holds each query with %TABLE% and %WHERE% where
// the range and filters of a ScorecardQuery go (ScorecardQuery.where), so
// that the dashboards can use the same text with Grafana's macros in its
// place. Quantiles come back as sketch buckets, summed, and are finished in
// Go (analytics.Sketch), exactly as the scorecard's.
var seriesSQL = map[string]string{
	"delivered_per_day": `SELECT day, sum(delivered) AS delivered
FROM %TABLE%
WHERE %WHERE%
GROUP BY day
HAVING delivered != 0
ORDER BY day`,
	"on_time_per_week": `SELECT toMonday(day) AS week, sum(with_promise) AS with_promise, sum(on_time) AS on_time
FROM %TABLE%
WHERE %WHERE%
GROUP BY week
HAVING with_promise != 0
ORDER BY week`,
	"transit_per_day": `SELECT day, b, sum(c) AS n
FROM %TABLE%
ARRAY JOIN transitMap.bucket AS b, transitMap.n AS c
WHERE %WHERE%
GROUP BY day, b
HAVING n != 0
ORDER BY day, b`,
	"customs_by_destination": `SELECT splitByChar('-', lane)[2] AS destination, b, sum(c) AS n
FROM %TABLE%
ARRAY JOIN customsMap.bucket AS b, customsMap.n AS c
WHERE %WHERE% AND lane LIKE '%-%'
GROUP BY destination, b
HAVING n != 0
ORDER BY destination, b`,
	"exceptions_per_day": `SELECT day, sum(exc_customs_held), sum(exc_delivery_failed), sum(exc_returned), sum(exc_exception)
FROM %TABLE%
WHERE %WHERE%
GROUP BY day
ORDER BY day`,
}

// SeriesSQL returns the query of a dashboard series by name, with table
// (shipment_days, or carrier_days when the filters need neither service nor
// merchant) in place of %TABLE% and where (a condition over it) in place
// of %WHERE%.
func SeriesSQL(name, table, where string) string {
	q, ok := seriesSQL[name]
	if !ok {
		panic("store: no series " + name)
	}
	return strings.NewReplacer("%TABLE%", table, "%WHERE%", where).Replace(q)
}

// DayCount is a count on one UTC day.
type DayCount struct {
	Day time.Time `json:"day"`
	N   int64     `json:"n"`
}

// DeliveredPerDay returns the shipments delivered on each day of q.
func (s *Store) DeliveredPerDay(ctx context.Context, q ScorecardQuery) ([]DayCount, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var out []DayCount
	err := s.each(ctx, SeriesSQL("delivered_per_day", q.table(), q.where()), "deliveries per day", func(scan func(...any) error) error {
		var d DayCount
		if err := scan(&d.Day, &d.N); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// WeekRate is the on-time rate of the deliveries of one week (from Monday).
type WeekRate struct {
	Week        time.Time `json:"week"`
	WithPromise int64     `json:"with_promise"`
	OnTime      int64     `json:"on_time"`
	Rate        float64   `json:"on_time_rate"`
}

// OnTimePerWeek returns the on-time rate of each week of q that had
// deliveries with a promise.
func (s *Store) OnTimePerWeek(ctx context.Context, q ScorecardQuery) ([]WeekRate, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var out []WeekRate
	err := s.each(ctx, SeriesSQL("on_time_per_week", q.table(), q.where()), "on-time rate per week", func(scan func(...any) error) error {
		var w WeekRate
		if err := scan(&w.Week, &w.WithPromise, &w.OnTime); err != nil {
			return err
		}
		w.Rate = float64(w.OnTime) / float64(w.WithPromise)
		out = append(out, w)
		return nil
	})
	return out, err
}

// Quantiles are the median and 90th percentile of a distribution, in hours.
type Quantiles struct {
	N   int64   `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
}

func quantiles(s *analytics.Sketch) Quantiles {
	return Quantiles{N: s.Count(), P50: s.Quantile(0.5), P90: s.Quantile(0.9)}
}

// DayQuantiles are the quantiles of one day.
type DayQuantiles struct {
	Day time.Time `json:"day"`
	Quantiles
}

// TransitPerDay returns transit-time quantiles of the shipments delivered on
// each day of q.
func (s *Store) TransitPerDay(ctx context.Context, q ScorecardQuery) ([]DayQuantiles, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var (
		out    []DayQuantiles
		cur    time.Time
		sketch analytics.Sketch
	)
	done := func() {
		if sketch.Count() > 0 {
			out = append(out, DayQuantiles{Day: cur, Quantiles: quantiles(&sketch)})
		}
		sketch = analytics.Sketch{}
	}
	err := s.each(ctx, SeriesSQL("transit_per_day", q.table(), q.where()), "transit times per day", func(scan func(...any) error) error {
		var (
			day time.Time
			b   int16
			n   int64
		)
		if err := scan(&day, &b, &n); err != nil {
			return err
		}
		if !day.Equal(cur) {
			done()
			cur = day
		}
		sketch.AddBucket(b, n)
		return nil
	})
	done()
	return out, err
}

// CountryQuantiles are the quantiles of one destination country.
type CountryQuantiles struct {
	Country string `json:"destination_country"`
	Quantiles
}

// CustomsByDestination returns customs-dwell quantiles per destination
// country, over the shipments delivered in q's range that went through
// customs.
func (s *Store) CustomsByDestination(ctx context.Context, q ScorecardQuery) ([]CountryQuantiles, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var (
		out    []CountryQuantiles
		cur    string
		sketch analytics.Sketch
	)
	done := func() {
		if sketch.Count() > 0 {
			out = append(out, CountryQuantiles{Country: cur, Quantiles: quantiles(&sketch)})
		}
		sketch = analytics.Sketch{}
	}
	err := s.each(ctx, SeriesSQL("customs_by_destination", q.table(), q.where()), "customs dwell per destination", func(scan func(...any) error) error {
		var (
			country string
			b       int16
			n       int64
		)
		if err := scan(&country, &b, &n); err != nil {
			return err
		}
		if country != cur {
			done()
			cur = country
		}
		sketch.AddBucket(b, n)
		return nil
	})
	done()
	return out, err
}

// DayExceptions counts, on one day, the shipments whose first event of each
// exception status falls on it, keyed by status.
type DayExceptions struct {
	Day    time.Time        `json:"day"`
	ByType map[string]int64 `json:"by_type"`
}

// ExceptionsPerDay returns the exceptions of each day of q, by type; days
// without any are left out.
func (s *Store) ExceptionsPerDay(ctx context.Context, q ScorecardQuery) ([]DayExceptions, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var out []DayExceptions
	err := s.each(ctx, SeriesSQL("exceptions_per_day", q.table(), q.where()), "exceptions per day", func(scan func(...any) error) error {
		var (
			d DayExceptions
			n [analytics.NumExceptionTypes]int64
		)
		if err := scan(&d.Day, &n[0], &n[1], &n[2], &n[3]); err != nil {
			return err
		}
		for i, st := range analytics.ExceptionTypes {
			if n[i] != 0 {
				if d.ByType == nil {
					d.ByType = map[string]int64{}
				}
				d.ByType[st.String()] = n[i]
			}
		}
		if d.ByType != nil {
			out = append(out, d)
		}
		return nil
	})
	return out, err
}
