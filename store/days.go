package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

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

const dayMeasures = "delivered, with_promise, on_time, exceptions, exc_customs_held, exc_delivery_failed, exc_returned, exc_exception, " +
	"transitMap.bucket, transitMap.n, customsMap.bucket, customsMap.n, sink_offset"

var (
	insertDays   = "INSERT INTO " + daysTable + " (day, carrier, lane, service, merchant, " + dayMeasures + ")"
	insertRollup = "INSERT INTO " + rollupTable + " (day, carrier, lane, " + dayMeasures + ")"
)

// ErrPositionMoved is wrapped by the error of a write whose partition
// position in the aggregates is neither where the write starts nor where it
// ends: another processor wrote for the same partition meanwhile (one that
// kept writing after the group had moved the partition away). The error is
// marked retry.Permanent: the aggregates of that partition must be checked.
var ErrPositionMoved = errors.New("aggregate position moved by another writer")

// WriteDays adds the changes days to the daily aggregates and moves the
// partitions' positions as advances say, in one insert, which ClickHouse
// stores as one part of shipment_days; the materialized view of
// 003_carrier_rollup.sql writes its rollup, positions included, into
// carrier_days within the same INSERT, after that part is committed.
//
// That makes a retry safe: when retried is true (an earlier attempt of the
// same write failed, and may have landed anyway, as when the connection
// broke after the server received the insert), WriteDays first waits until
// the server no longer runs any insert of this Store that failed (their
// query ids are kept), so that neither table can still change, then reads
// the positions of both tables:
//
//   - at the advances' ends in both: the earlier attempt landed; nothing is
//     written;
//   - at their starts in both: it did not; the write is made again;
//   - at the ends in shipment_days, the starts in carrier_days: the server
//     committed the part and stopped before the view wrote its rollup (a
//     cut connection cancels the query there); the rollup rows alone are
//     inserted into carrier_days;
//   - any other position means another writer, and the error wraps
//     ErrPositionMoved.
func (s *Store) WriteDays(ctx context.Context, days *analytics.Days, advances []analytics.Advance, retried bool) error {
	repairRollup := false
	if retried && len(advances) > 0 {
		if err := s.awaitFailedInserts(ctx); err != nil {
			return err
		}
		inDays, err := s.landed(ctx, daysTable, advances)
		if err != nil {
			return err
		}
		inRollup, err := s.landed(ctx, rollupTable, advances)
		switch {
		case err != nil:
			return err
		case inDays && inRollup:
			return nil
		case inRollup:
			return retry.Permanent(fmt.Errorf("%w: the positions of one insert moved in %s but not in %s", ErrPositionMoved, rollupTable, daysTable))
		}
		repairRollup = inDays
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
	measures := []any{delivered, withPromise, onTime, exceptions,
		byType[0], byType[1], byType[2], byType[3], transitBucket, transitN, customsBucket, customsN, sinkOffset}
	if repairRollup {
		// The view's projection (003_carrier_rollup.sql): the same rows
		// without service and merchant, which SummingMergeTree folds.
		return s.insertDays(ctx, insertRollup, rollupTable, n, append([]any{day, carrier, lane}, measures...))
	}
	return s.insertDays(ctx, insertDays, daysTable, n, append([]any{day, carrier, lane, service, merchant}, measures...))
}

// insertDays sends one insert of n rows given as columns. The query id of a
// failed insert is kept until a retry has waited for it to end
// (awaitFailedInserts).
func (s *Store) insertDays(ctx context.Context, query, table string, n int, cols []any) error {
	id := newQueryID()
	qctx := clickhouse.Context(ctx, clickhouse.WithQueryID(id))
	batch, err := s.conn.PrepareBatch(qctx, query)
	if err != nil {
		s.insertFailed(id)
		return s.failed(ctx, err, "cannot prepare insert into %s", table)
	}
	defer batch.Close()
	for i, col := range cols {
		if err := batch.Column(i).Append(col); err != nil {
			s.insertFailed(id)
			return s.failed(ctx, err, "cannot fill column %d of the %s batch", i, table)
		}
	}
	if err := batch.Send(); err != nil {
		s.insertFailed(id)
		return s.failed(ctx, err, "cannot insert %d rows into %s", n, table)
	}
	return nil
}

func newQueryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "shiplens-days-" + hex.EncodeToString(b[:])
}

func (s *Store) insertFailed(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failedInserts = append(s.failedInserts, id)
}

// awaitFailedInserts waits until the server runs none of the inserts whose
// attempt failed here: one whose connection broke may still be writing its
// part or its view's rows. It polls system.processes with the retry
// package's backoff, at most awaitInsertsFor; past that, the error is
// retryable.
func (s *Store) awaitFailedInserts(ctx context.Context) error {
	s.mu.Lock()
	ids := slices.Clone(s.failedInserts)
	s.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = quote(id)
	}
	q := "SELECT count() FROM system.processes WHERE query_id IN (" + strings.Join(quoted, ", ") + ")"
	wctx, cancel := context.WithTimeout(ctx, awaitInsertsFor)
	defer cancel()
	var running uint64
	err := retry.Do(wctx, retry.Policy{Initial: 10 * time.Millisecond, Max: time.Second}, func(ctx context.Context) error {
		if err := s.conn.QueryRow(ctx, q).Scan(&running); err != nil {
			return s.failed(ctx, err, "cannot check whether the failed inserts still run")
		}
		if running > 0 {
			return errStillRunning
		}
		return nil
	})
	switch {
	case err == nil:
	case ctx.Err() == nil && wctx.Err() != nil && running > 0:
		return fmt.Errorf("%d failed inserts into %s still run on the server after %v", running, daysTable, awaitInsertsFor)
	default:
		return err
	}
	s.mu.Lock()
	s.failedInserts = slices.DeleteFunc(s.failedInserts, func(id string) bool { return slices.Contains(ids, id) })
	s.mu.Unlock()
	return nil
}

// errStillRunning is the retryable answer of a poll that found a failed
// insert still running.
var errStillRunning = errors.New("a failed insert still runs on the server")

// awaitInsertsFor bounds how long a retry waits for failed inserts to end.
const awaitInsertsFor = time.Minute

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
func (s *Store) landed(ctx context.Context, table string, advances []analytics.Advance) (bool, error) {
	pos, err := s.positions(ctx, table)
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
			return false, retry.Permanent(fmt.Errorf("%w: partition %d stands at offset %d in %s, not at %d or %d", ErrPositionMoved, a.Partition, p, table, a.From, a.To))
		}
	}
	if ends > 0 && starts > 0 {
		return false, retry.Permanent(fmt.Errorf("%w: the positions of one insert are partly moved in %s", ErrPositionMoved, table))
	}
	return ends > 0, nil
}

// Positions returns, per Kafka partition, the offset before which its
// events are in the daily aggregates; a partition without one is absent
// (offset 0).
func (s *Store) Positions(ctx context.Context) (map[int]int64, error) {
	return s.positions(ctx, daysTable)
}

// positions reads the positions of shipment_days or of its rollup.
func (s *Store) positions(ctx context.Context, table string) (map[int]int64, error) {
	rows, err := s.conn.Query(ctx, "SELECT lane, sum(sink_offset) FROM "+table+" WHERE "+positionFilter+" GROUP BY lane")
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
