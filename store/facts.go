package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/schemas"
)

// Fact is one version of a shipment's state, ready to be written.
type Fact = analytics.Fact

var factColumns = []string{
	"tracking_number", "partition", "carrier", "service", "merchant", "lane",
	"origin_country", "destination_country", "status", "category",
	"first_at", "start_at", "picked_up_at", "active_at", "delivered_at", "exception_at",
	"customs_in_at", "customs_out_at", "promised_at", "last_at",
	"delivered", "delivered_day", "transit_hours", "transit_bucket",
	"has_promise", "on_time", "entered_customs", "customs_done", "customs_dwell_hours", "customs_bucket",
	"has_exception", "exception_day",
	"id_at", "id_key", "lane_at", "lane_key", "promise_at", "promise_key", "last_key", "early_out",
	"version", "updated_at",
}

var insertFacts = "INSERT INTO shipments (" + strings.Join(factColumns, ", ") + ")"

// factBatch holds one batch column by column: clickhouse-go appends whole
// columns far faster than rows of any.
type factBatch struct {
	tn, carrier, service, merchant, lane, origin, dest, status, category []string
	partition                                                            []uint16
	firstAt, startAt, pickedAt, activeAt, deliveredAt, exceptionAt       []time.Time
	customsIn, customsOut, promisedAt, lastAt, updatedAt                 []time.Time
	deliveredDay, exceptionDay                                           []time.Time
	delivered, hasPromise, onTime, enteredCustoms, customsDone, hasExc   []uint8
	transitH, dwellH                                                     []float64
	transitB, dwellB                                                     []int16
	idAt, idKey, laneAt, laneKey, promiseAt, promiseKey, lastKey         []int64
	earlyOut                                                             [][]int64
	version                                                              []uint32
}

func ts(t uint32) time.Time { return time.Unix(int64(t), 0).UTC() }

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func (b *factBatch) add(f *Fact, now time.Time) {
	s := &f.State
	lane := s.Lane()
	origin, dest, _ := strings.Cut(lane, "-")
	b.tn = append(b.tn, f.TrackingNumber)
	b.partition = append(b.partition, uint16(f.Partition))
	b.carrier = append(b.carrier, s.Carrier())
	b.service = append(b.service, s.Service())
	b.merchant = append(b.merchant, s.Merchant())
	b.lane = append(b.lane, lane)
	b.origin = append(b.origin, origin)
	b.dest = append(b.dest, dest)
	b.status = append(b.status, s.LastStatus.String())
	b.category = append(b.category, s.LastStatus.Category().String())
	b.firstAt = append(b.firstAt, ts(s.FirstAt))
	b.startAt = append(b.startAt, ts(s.Start()))
	b.pickedAt = append(b.pickedAt, ts(s.PickedUpAt))
	b.activeAt = append(b.activeAt, ts(s.ActiveAt))
	b.deliveredAt = append(b.deliveredAt, ts(s.DeliveredAt))
	b.exceptionAt = append(b.exceptionAt, ts(s.ExceptionAt))
	b.customsIn = append(b.customsIn, ts(s.CustomsInAt))
	b.customsOut = append(b.customsOut, ts(s.CustomsOutAt))
	b.promisedAt = append(b.promisedAt, ts(s.PromisedAt))
	b.lastAt = append(b.lastAt, ts(s.LastAt))
	b.delivered = append(b.delivered, b2u(s.Delivered()))
	b.deliveredDay = append(b.deliveredDay, analytics.Day(s.DeliveredAt))
	th, _ := s.TransitHours()
	b.transitH = append(b.transitH, th)
	b.transitB = append(b.transitB, analytics.Bucket(th))
	b.hasPromise = append(b.hasPromise, b2u(s.HasPromise()))
	onTime, _ := s.OnTime()
	b.onTime = append(b.onTime, b2u(onTime))
	b.enteredCustoms = append(b.enteredCustoms, b2u(s.EnteredCustoms()))
	dh, done := s.CustomsDwellHours()
	b.customsDone = append(b.customsDone, b2u(done))
	b.dwellH = append(b.dwellH, dh)
	b.dwellB = append(b.dwellB, analytics.Bucket(dh))
	b.hasExc = append(b.hasExc, b2u(s.HasException()))
	b.exceptionDay = append(b.exceptionDay, analytics.Day(s.ExceptionAt))
	b.idAt = append(b.idAt, int64(s.IDAt))
	b.idKey = append(b.idKey, int64(s.IDKey))
	b.laneAt = append(b.laneAt, int64(s.LaneAt))
	b.laneKey = append(b.laneKey, int64(s.LaneKey))
	b.promiseAt = append(b.promiseAt, int64(s.PromiseAt))
	b.promiseKey = append(b.promiseKey, int64(s.PromiseKey))
	b.lastKey = append(b.lastKey, int64(s.LastKey))
	eo := make([]int64, len(s.EarlyOut))
	for i, t := range s.EarlyOut {
		eo[i] = int64(t)
	}
	b.earlyOut = append(b.earlyOut, eo)
	b.version = append(b.version, s.Version)
	b.updatedAt = append(b.updatedAt, now)
}

func (b *factBatch) columns() []any {
	return []any{
		b.tn, b.partition, b.carrier, b.service, b.merchant, b.lane,
		b.origin, b.dest, b.status, b.category,
		b.firstAt, b.startAt, b.pickedAt, b.activeAt, b.deliveredAt, b.exceptionAt,
		b.customsIn, b.customsOut, b.promisedAt, b.lastAt,
		b.delivered, b.deliveredDay, b.transitH, b.transitB,
		b.hasPromise, b.onTime, b.enteredCustoms, b.customsDone, b.dwellH, b.dwellB,
		b.hasExc, b.exceptionDay,
		b.idAt, b.idKey, b.laneAt, b.laneKey, b.promiseAt, b.promiseKey, b.lastKey, b.earlyOut,
		b.version, b.updatedAt,
	}
}

// WriteFacts inserts facts as one batch. Writing the same facts again is
// harmless: readers keep one row per (tracking_number, version).
func (s *Store) WriteFacts(ctx context.Context, facts []Fact) error {
	if len(facts) == 0 {
		return nil
	}
	var fb factBatch
	now := time.Now().UTC().Truncate(time.Second)
	for i := range facts {
		fb.add(&facts[i], now)
	}
	batch, err := s.conn.PrepareBatch(ctx, insertFacts)
	if err != nil {
		if !Retryable(err) {
			return retry.Permanent(fmt.Errorf("cannot prepare insert into shipments: %w", err))
		}
		return fmt.Errorf("cannot prepare insert into shipments: %w", err)
	}
	defer batch.Close()
	for i, col := range fb.columns() {
		if err := batch.Column(i).Append(col); err != nil {
			return fmt.Errorf("cannot fill column %s of shipments batch: %w", factColumns[i], err)
		}
	}
	if err := batch.Send(); err != nil {
		if !Retryable(err) {
			return retry.Permanent(fmt.Errorf("cannot insert %d rows into shipments: %w", len(facts), err))
		}
		return fmt.Errorf("cannot insert %d rows into shipments: %w", len(facts), err)
	}
	return nil
}

// latestColumns selects, per tracking number, the columns of its highest
// version. argMax keeps the query correct on every ClickHouse release, where
// FINAL with filters has changed meaning over time.
func latestColumns(cols ...string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "argMax(%s, version) AS %s", c, c)
	}
	return b.String()
}

func u32(t time.Time) uint32 { return uint32(t.Unix()) }

// restoreSQL selects the latest state of a partition's shipments.
func restoreSQL(partition int) string {
	cols := []string{"carrier", "service", "merchant", "lane",
		"first_at", "picked_up_at", "active_at", "delivered_at", "exception_at", "customs_in_at", "customs_out_at",
		"promised_at", "last_at", "status",
		"id_at", "id_key", "lane_at", "lane_key", "promise_at", "promise_key", "last_key", "early_out"}
	return "SELECT tracking_number, " + latestColumns(cols...) + ", max(version) AS last_version" +
		" FROM shipments WHERE partition = " + strconv.Itoa(partition) + " GROUP BY tracking_number"
}

// Restore calls fn with the latest stored state of every shipment last
// written from Kafka partition partition.
func (s *Store) Restore(ctx context.Context, partition int, fn func(trackingNumber string, st analytics.Shipment)) error {
	q := restoreSQL(partition)
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("cannot read state of partition %d: %w", partition, err)
	}
	defer rows.Close()
	var (
		tn, carrier, service, merchant, lane, status                     string
		first, picked, active, delivered, exc, cin, cout, promised, last time.Time
		idAt, idKey, laneAt, laneKey, promiseAt, promiseKey, lastKey     int64
		earlyOut                                                         []int64
		st                                                               analytics.Shipment
	)
	for rows.Next() {
		st = analytics.Shipment{}
		if err := rows.Scan(&tn, &carrier, &service, &merchant, &lane,
			&first, &picked, &active, &delivered, &exc, &cin, &cout, &promised, &last, &status,
			&idAt, &idKey, &laneAt, &laneKey, &promiseAt, &promiseKey, &lastKey, &earlyOut, &st.Version); err != nil {
			return fmt.Errorf("cannot read state of partition %d: %w", partition, err)
		}
		st.SetLabels(carrier, service, merchant, lane)
		st.FirstAt, st.PickedUpAt, st.ActiveAt, st.DeliveredAt = u32(first), u32(picked), u32(active), u32(delivered)
		st.ExceptionAt, st.CustomsInAt, st.CustomsOutAt = u32(exc), u32(cin), u32(cout)
		st.PromisedAt, st.LastAt = u32(promised), u32(last)
		st.IDAt, st.IDKey, st.LaneAt, st.LaneKey = uint32(idAt), uint32(idKey), uint32(laneAt), uint32(laneKey)
		st.PromiseAt, st.PromiseKey, st.LastKey = uint32(promiseAt), uint32(promiseKey), uint32(lastKey)
		if st.LastStatus, err = schemas.ParseStatus(status); err != nil {
			return fmt.Errorf("cannot restore shipment %s: %w", tn, err)
		}
		for _, t := range earlyOut {
			st.EarlyOut = append(st.EarlyOut, uint32(t))
		}
		fn(tn, st)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read state of partition %d: %w", partition, err)
	}
	return nil
}
