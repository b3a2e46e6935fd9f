package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
)

// ScorecardQuery selects the shipments of a carrier scorecard, and of the
// dashboard series (series.go).
type ScorecardQuery struct {
	From, To time.Time // inclusive UTC days of delivery (and of first exception)
	Carrier  string    // optional filter
	Lane     string    // optional filter, e.g. "CN-US"
	Service  string    // optional filter
	Merchant string    // optional filter
}

// Validate reports a query that cannot be answered.
func (q ScorecardQuery) Validate() error {
	if q.From.IsZero() || q.To.IsZero() {
		return errors.New("invalid scorecard query: from and to days are required")
	}
	if q.To.Before(q.From) {
		return fmt.Errorf("invalid scorecard query: to %s is before from %s", q.To.Format(time.DateOnly), q.From.Format(time.DateOnly))
	}
	return nil
}

// where returns the WHERE condition of q over the daily aggregates. Values
// are inlined as literals so the same text runs through clickhouse-go and
// through libchdb in the tests. carrier != ” leaves out the position rows.
func (q ScorecardQuery) where() string {
	w := fmt.Sprintf("day >= toDate('%s') AND day <= toDate('%s') AND carrier != ''",
		q.From.UTC().Format(time.DateOnly), q.To.UTC().Format(time.DateOnly))
	for _, f := range [...]struct{ col, v string }{{"carrier", q.Carrier}, {"lane", q.Lane}, {"service", q.Service}, {"merchant", q.Merchant}} {
		if f.v != "" {
			w += " AND " + f.col + " = " + quote(f.v)
		}
	}
	return w
}

// table returns the aggregates table that answers q: the carrier rollup
// (carrier_days, per carrier, lane and day) unless q filters on service or
// merchant, which only shipment_days holds.
func (q ScorecardQuery) table() string {
	if q.Service == "" && q.Merchant == "" {
		return rollupTable
	}
	return daysTable
}

// escapeLiteral escapes a ClickHouse string literal's backslashes and quotes.
var escapeLiteral = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// quote returns s as a ClickHouse string literal.
func quote(s string) string { return "'" + escapeLiteral.Replace(s) + "'" }

// scorecardSQL returns the three queries of a scorecard over the daily
// aggregates: the counts, and the transit and customs sketch buckets, per
// carrier and lane. Each reads the rows of the selected days only.
func scorecardSQL(q ScorecardQuery) (counts, transit, customs string) {
	w, table := q.where(), q.table()
	counts = `SELECT carrier, lane, sum(delivered), sum(with_promise), sum(on_time), sum(exceptions)
FROM ` + table + `
WHERE ` + w + `
GROUP BY carrier, lane
HAVING sum(delivered) != 0 OR sum(exceptions) != 0
ORDER BY carrier, lane`
	// sumMap adds the bucket arrays per carrier and lane without expanding
	// them into rows (ARRAY JOIN took twice as long).
	sketch := func(m string) string {
		return `SELECT carrier, lane, (sumMap(` + m + `.bucket, ` + m + `.n) AS sketch).1, sketch.2
FROM ` + table + `
WHERE ` + w + `
GROUP BY carrier, lane
ORDER BY carrier, lane`
	}
	return counts, sketch("transitMap"), sketch("customsMap")
}

// Scorecard returns one row per carrier and lane, as DESIGN section 7 defines.
func (s *Store) Scorecard(ctx context.Context, q ScorecardQuery) ([]analytics.ScoreRow, error) {
	card, err := s.ScorecardOf(ctx, q)
	if err != nil {
		return nil, err
	}
	return card.Rows(), nil
}

// ScorecardOf returns the scorecard before its rows are finished, so callers
// can roll it up (per carrier, per lane) without another query.
func (s *Store) ScorecardOf(ctx context.Context, q ScorecardQuery) (*analytics.Scorecard, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	counts, transit, customs := scorecardSQL(q)
	var card analytics.Scorecard
	err := s.each(ctx, counts, "delivered shipments", func(scan func(...any) error) error {
		var (
			k                  analytics.ScoreKey
			d, p, o, exception int64
		)
		if err := scan(&k.Carrier, &k.Lane, &d, &p, &o, &exception); err != nil {
			return err
		}
		card.AddCounts(k, d, p, o, exception)
		return nil
	})
	for _, sk := range [...]struct {
		sql, what string
		add       func(analytics.ScoreKey, int16, int64)
	}{{transit, "transit times", card.AddTransit}, {customs, "customs dwell times", card.AddCustoms}} {
		if err != nil {
			break
		}
		err = s.each(ctx, sk.sql, sk.what, func(scan func(...any) error) error {
			var (
				k       analytics.ScoreKey
				buckets []int16
				counts  []int64
			)
			if err := scan(&k.Carrier, &k.Lane, &buckets, &counts); err != nil {
				return err
			}
			for i, b := range buckets {
				if i < len(counts) && counts[i] != 0 {
					sk.add(k, b, counts[i])
				}
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	return &card, nil
}

// each runs query and calls fn for every row, with the row's Scan.
func (s *Store) each(ctx context.Context, query, what string, fn func(scan func(...any) error) error) error {
	rows, err := s.conn.Query(ctx, query)
	if err != nil {
		return s.failed(ctx, err, "cannot query %s", what)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return s.failed(ctx, err, "cannot read %s", what)
		}
	}
	if err := rows.Err(); err != nil {
		return s.failed(ctx, err, "cannot read %s", what)
	}
	return nil
}

// OpenShipments returns the tracking numbers of carrier that are neither
// delivered nor returned and had an event since since: the ones a poller
// should ask the carrier about.
func (s *Store) OpenShipments(ctx context.Context, carrier string, since time.Time) ([]string, error) {
	q := "SELECT tracking_number FROM (SELECT tracking_number, " +
		latestColumns("carrier", "delivered", "status", "last_at") +
		" FROM " + factsTable + " GROUP BY tracking_number) WHERE carrier = " + quote(carrier) +
		" AND delivered = 0 AND status != 'returned' AND last_at >= toDateTime(" + strconv.FormatInt(since.Unix(), 10) + ")" +
		" ORDER BY tracking_number"
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return nil, s.failed(ctx, err, "cannot query open shipments of %s", carrier)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tn string
		if err := rows.Scan(&tn); err != nil {
			return nil, s.failed(ctx, err, "cannot read open shipments of %s", carrier)
		}
		out = append(out, tn)
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(ctx, err, "cannot read open shipments of %s", carrier)
	}
	return out, nil
}
