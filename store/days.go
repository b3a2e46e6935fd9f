package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/retry"
)

// daysTable holds the daily aggregates (schemas/clickhouse/002_daily_aggregates.sql),
// and rollupTable the same rolled up over service and merchant, filled by a
// materialized view from every insert into daysTable (003_carrier_rollup.sql).
const (
	daysTable   = "shipment_days"
	rollupTable = "carrier_days"
)

// Position rows: day 1970-01-01, carrier ”, lane = the Kafka partition.
const positionFilter = "day = toDate('1970-01-01') AND carrier = ''"

var insertDays = "INSERT INTO " + daysTable + " (day, carrier, lane, service, merchant, delivered, with_promise, on_time, " +
	"exceptions, exc_customs_held, exc_delivery_failed, exc_returned, exc_exception, " +
	"transitMap.bucket, transitMap.n, customsMap.bucket, customsMap.n, sink_offset)"

// ErrPositionMoved is wrapped by the error of a write whose partition
// position in the aggregates is neither where the write starts nor where it
// ends: another processor wrote for the same partition meanwhile (one that
// kept writing after the group had moved the partition away). The error is
// marked retry.Permanent: the aggregates of that partition must be checked.
var ErrPositionMoved = errors.New("aggregate position moved by another writer")

// WriteDays adds the changes days to the daily aggregates and moves the
// partitions' positions as advances say, in one insert, which ClickHouse
// stores as one part: the changes and the positions land together or not
// at all. That makes a retry safe: when retried is true (an earlier attempt
// of the same write failed, and may have landed anyway, as when the
// connection broke after the server received the insert), WriteDays first
// reads the positions. If they are at the advances' ends, the earlier
// attempt landed and nothing is written; at their starts, it did not; any
// other position means another writer, and the error wraps
// ErrPositionMoved.
func (s *Store) WriteDays(ctx context.Context, days *analytics.Days, advances []analytics.Advance, retried bool) error {
	if retried && len(advances) > 0 {
		landed, err := s.landed(ctx, advances)
		if err != nil || landed {
			return err
		}
	}
	type row struct {
		k analytics.DayKey
		c *analytics.DayCell
	}
	var rows []row
	if days != nil {
		days.Each(func(k analytics.DayKey, c *analytics.DayCell) { rows = append(rows, row{k, c}) })
	}
	n := len(rows)
	for _, a := range advances {
		if a.To != a.From {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.k.Day, b.k.Day), strings.Compare(a.k.Carrier, b.k.Carrier),
			strings.Compare(a.k.Lane, b.k.Lane), strings.Compare(a.k.Service, b.k.Service), strings.Compare(a.k.Merchant, b.k.Merchant))
	})
	var (
		day                                        = make([]time.Time, 0, n)
		carrier, lane, service, merchant           = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		delivered, withPromise, onTime, exceptions = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		byType                                     [analytics.NumExceptionTypes][]int64
		transitBucket, customsBucket               = make([][]int16, 0, n), make([][]int16, 0, n)
		transitN, customsN                         = make([][]int64, 0, n), make([][]int64, 0, n)
		sinkOffset                                 = make([]int64, 0, n)
	)
	for _, r := range rows {
		day = append(day, time.Unix(int64(r.k.Day), 0).UTC())
		carrier, lane = append(carrier, r.k.Carrier), append(lane, r.k.Lane)
		service, merchant = append(service, r.k.Service), append(merchant, r.k.Merchant)
		delivered, withPromise = append(delivered, r.c.Delivered), append(withPromise, r.c.WithPromise)
		onTime, exceptions = append(onTime, r.c.OnTime), append(exceptions, r.c.Exceptions)
		for i := range byType {
			byType[i] = append(byType[i], r.c.ByType[i])
		}
		b, c := buckets(r.c.Transit)
		transitBucket, transitN = append(transitBucket, b), append(transitN, c)
		b, c = buckets(r.c.Customs)
		customsBucket, customsN = append(customsBucket, b), append(customsN, c)
		sinkOffset = append(sinkOffset, 0)
	}
	for _, a := range advances {
		if a.To == a.From {
			continue
		}
		day = append(day, time.Unix(0, 0).UTC())
		carrier, lane = append(carrier, ""), append(lane, strconv.Itoa(a.Partition))
		service, merchant = append(service, ""), append(merchant, "")
		delivered, withPromise, onTime, exceptions = append(delivered, 0), append(withPromise, 0), append(onTime, 0), append(exceptions, 0)
		for i := range byType {
			byType[i] = append(byType[i], 0)
		}
		transitBucket, transitN = append(transitBucket, []int16{}), append(transitN, []int64{})
		customsBucket, customsN = append(customsBucket, []int16{}), append(customsN, []int64{})
		sinkOffset = append(sinkOffset, a.To-a.From)
	}
	cols := []any{day, carrier, lane, service, merchant, delivered, withPromise, onTime, exceptions,
		byType[0], byType[1], byType[2], byType[3], transitBucket, transitN, customsBucket, customsN, sinkOffset}
	batch, err := s.conn.PrepareBatch(ctx, insertDays)
	if err != nil {
		return s.failed(ctx, err, "cannot prepare insert into %s", daysTable)
	}
	defer batch.Close()
	for i, col := range cols {
		if err := batch.Column(i).Append(col); err != nil {
			return s.failed(ctx, err, "cannot fill column %d of the %s batch", i, daysTable)
		}
	}
	if err := batch.Send(); err != nil {
		return s.failed(ctx, err, "cannot insert %d rows into %s", n, daysTable)
	}
	return nil
}

// buckets returns a sketch's buckets and counts, by bucket.
func buckets(m map[int16]int64) ([]int16, []int64) {
	b := make([]int16, 0, len(m))
	for k := range m {
		b = append(b, k)
	}
	slices.Sort(b)
	n := make([]int64, len(b))
	for i, k := range b {
		n[i] = m[k]
	}
	return b, n
}

// landed reports whether the positions stand at the ends of advances (the
// write landed) or at their starts (it did not). Advances that move nothing
// are not written and do not count.
func (s *Store) landed(ctx context.Context, advances []analytics.Advance) (bool, error) {
	pos, err := s.Positions(ctx)
	if err != nil {
		return false, err
	}
	ends, starts := 0, 0
	for _, a := range advances {
		switch p := pos[a.Partition]; {
		case a.From == a.To:
		case p == a.To:
			ends++
		case p == a.From:
			starts++
		default:
			return false, retry.Permanent(fmt.Errorf("%w: partition %d stands at offset %d, not at %d or %d", ErrPositionMoved, a.Partition, p, a.From, a.To))
		}
	}
	if ends > 0 && starts > 0 {
		return false, retry.Permanent(fmt.Errorf("%w: the positions of one insert are partly moved", ErrPositionMoved))
	}
	return ends > 0, nil
}

// Positions returns, per Kafka partition, the offset before which its
// events are in the daily aggregates; a partition without one is absent
// (offset 0).
func (s *Store) Positions(ctx context.Context) (map[int]int64, error) {
	rows, err := s.conn.Query(ctx, "SELECT lane, sum(sink_offset) FROM "+daysTable+" WHERE "+positionFilter+" GROUP BY lane")
	if err != nil {
		return nil, s.failed(ctx, err, "cannot read the aggregates' positions")
	}
	defer rows.Close()
	out := map[int]int64{}
	for rows.Next() {
		var (
			lane string
			off  int64
		)
		if err := rows.Scan(&lane, &off); err != nil {
			return nil, s.failed(ctx, err, "cannot read the aggregates' positions")
		}
		p, err := strconv.Atoi(lane)
		if err != nil {
			return nil, retry.Permanent(fmt.Errorf("cannot read the aggregates' positions: partition %q is not a number", lane))
		}
		out[p] = off
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(ctx, err, "cannot read the aggregates' positions")
	}
	return out, nil
}

// Position returns the offset before which partition's events are in the
// daily aggregates, 0 when none are.
func (s *Store) Position(ctx context.Context, partition int) (int64, error) {
	pos, err := s.Positions(ctx)
	return pos[partition], err
}
