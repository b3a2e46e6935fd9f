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

// ScorecardQuery selects the shipments of a carrier scorecard.
type ScorecardQuery struct {
	From, To time.Time // inclusive UTC days of delivery (and of first exception)
	Carrier  string    // optional filter
	Lane     string    // optional filter, e.g. "CN-US"
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

// latestShipments is the newest version of every shipment, with the columns
// the scorecard needs.
var latestShipments = "SELECT tracking_number, " + latestColumns("carrier", "lane", "delivered", "delivered_day",
	"transit_bucket", "customs_done", "customs_bucket", "has_promise", "on_time", "has_exception", "exception_day") +
	" FROM shipments GROUP BY tracking_number"

// quote returns s as a ClickHouse string literal.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// scorecardSQL returns the two queries of a scorecard: delivered shipments by
// sketch bucket, and exceptions. Values are inlined as literals so the same
// text runs through clickhouse-go and through libchdb in the tests.
func scorecardSQL(q ScorecardQuery) (delivered, exceptions string) {
	from, to := q.From.UTC().Format(time.DateOnly), q.To.UTC().Format(time.DateOnly)
	filter := ""
	if q.Carrier != "" {
		filter += " AND carrier = " + quote(q.Carrier)
	}
	if q.Lane != "" {
		filter += " AND lane = " + quote(q.Lane)
	}
	delivered = fmt.Sprintf(`SELECT carrier, lane, transit_bucket, customs_done, customs_bucket, has_promise, on_time, count() AS n
FROM (%s)
WHERE delivered = 1 AND delivered_day >= toDate('%s') AND delivered_day <= toDate('%s')%s
GROUP BY carrier, lane, transit_bucket, customs_done, customs_bucket, has_promise, on_time
ORDER BY carrier, lane, transit_bucket, customs_done, customs_bucket, has_promise, on_time`, latestShipments, from, to, filter)
	exceptions = fmt.Sprintf(`SELECT carrier, lane, count() AS n
FROM (%s)
WHERE has_exception = 1 AND exception_day >= toDate('%s') AND exception_day <= toDate('%s')%s
GROUP BY carrier, lane
ORDER BY carrier, lane`, latestShipments, from, to, filter)
	return delivered, exceptions
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
	delivered, exceptions := scorecardSQL(q)
	var card analytics.Scorecard
	rows, err := s.conn.Query(ctx, delivered)
	if err != nil {
		return nil, s.failed(ctx, err, "cannot query delivered shipments")
	}
	for rows.Next() {
		var (
			k                            analytics.ScoreKey
			tb, cb                       int16
			customsDone, promise, onTime uint8
			n                            uint64
		)
		if err := rows.Scan(&k.Carrier, &k.Lane, &tb, &customsDone, &cb, &promise, &onTime, &n); err != nil {
			rows.Close()
			return nil, s.failed(ctx, err, "cannot read delivered shipments")
		}
		card.AddDelivered(k, int64(n), tb, customsDone == 1, cb, promise == 1, onTime == 1)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.failed(ctx, err, "cannot read delivered shipments")
	}
	rows, err = s.conn.Query(ctx, exceptions)
	if err != nil {
		return nil, s.failed(ctx, err, "cannot query exceptions")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k analytics.ScoreKey
			n uint64
		)
		if err := rows.Scan(&k.Carrier, &k.Lane, &n); err != nil {
			return nil, s.failed(ctx, err, "cannot read exceptions")
		}
		card.AddExceptions(k, int64(n))
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(ctx, err, "cannot read exceptions")
	}
	return &card, nil
}

// OpenShipments returns the tracking numbers of carrier that are neither
// delivered nor returned and had an event since since: the ones a poller
// should ask the carrier about.
func (s *Store) OpenShipments(ctx context.Context, carrier string, since time.Time) ([]string, error) {
	q := "SELECT tracking_number FROM (SELECT tracking_number, " +
		latestColumns("carrier", "delivered", "status", "last_at") +
		" FROM shipments GROUP BY tracking_number) WHERE carrier = " + quote(carrier) +
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
