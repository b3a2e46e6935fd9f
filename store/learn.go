package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/internal/retry"
)

// What a model version learns (see processor's learner and
// eta.LearnVersion): version v learns the outcomes and the predictions whose
// learn day is in (previous version, v]. A shipment is learned once, from
// its first outcome (the least learn, then the least rev): a later outcome
// of the same shipment (a late, earlier delivered event) could join a
// version already built, so taking it would make a version's content depend
// on when it was built.

// learnedSQL selects, per tracking number, its first outcome, if that
// falls in (%FROM%, %TO%]: tracking_number, delivered, start, carrier,
// service, lane. learn is at least a day after delivery and at most
// journeyBound later, which bounds the months read.
var learnedSQL = `SELECT tracking_number, learned, delivered, start, carrier, service, lane
    FROM
    (
        SELECT tracking_number, min(learn) AS learned,
            argMin(delivered_at, ` + firstKey + `) AS delivered, argMin(start, ` + firstKey + `) AS start,
            argMin(carrier, ` + firstKey + `) AS carrier, argMin(service, ` + firstKey + `) AS service,
            argMin(lane, ` + firstKey + `) AS lane
        FROM ` + outcomesTable + `
        WHERE delivered_at >= %FROM% - ` + seconds(journeyBound) + ` AND delivered_at < %TO%
        GROUP BY tracking_number
    )
    WHERE learned > %FROM% AND learned <= %TO%`

// firstKey orders the rows of a shipment by learn day, then rev (a
// shipment state's version, below 2^32), so that the first is one row
// whatever the order rows are read in.
const firstKey = "toUInt64(toUInt32(learn)) * 4294967296 + rev"

// learnSQL returns the learned deliveries with their visits: the distinct
// (as_of, milestone) of their predictions learnable by %TO%, as two arrays,
// sorted by delivery and tracking number.
var learnSQL = `SELECT o_tn, carrier, service, lane, toUInt32(start), toUInt32(delivered), toUInt32(learned), visit_at, visit_milestone
FROM
(
    SELECT tracking_number, groupArray(as_of) AS visit_at, groupArray(milestone) AS visit_milestone
    FROM
    (
        SELECT DISTINCT tracking_number, as_of, milestone
        FROM ` + historyTable + `
        WHERE as_of >= %FROM% - ` + seconds(2*journeyBound) + ` AND as_of < %TO% AND learn <= %TO%
            AND tracking_number IN (SELECT tracking_number FROM (` + learnedSQL + `))
    )
    GROUP BY tracking_number
) AS visits
ALL RIGHT JOIN
(
    SELECT tracking_number, tracking_number AS o_tn, delivered, start, carrier, service, lane, learned
    FROM
    (
    ` + learnedSQL + `
    )
) AS outcome USING tracking_number
ORDER BY delivered, o_tn`

// Learned calls fn with the deliveries model version to learns after
// version from: the shipments whose first outcome has its learn day in
// (from, to], in (DeliveredAt, TrackingNumber) order, each with its
// predictions made before delivery as Visits. It is Deliveries, selected by
// learn day instead of delivery time.
func (s *Store) Learned(ctx context.Context, from, to uint32, fn func(eta.Delivery) error) error {
	q := strings.NewReplacer("%FROM%", dateTime(int64(from)), "%TO%", dateTime(int64(to))).Replace(learnSQL)
	what := fmt.Sprintf("the deliveries model version %s learns", ts(to).Format(time.DateOnly))
	var (
		ats        []time.Time
		milestones []string
	)
	return s.etaQuery(spilling(ctx), q, []string{historyTable, outcomesTable}, what, func(scan func(...any) error) error {
		var d eta.Delivery
		if err := scan(&d.TrackingNumber, &d.Carrier, &d.Service, &d.Lane, &d.Start, &d.DeliveredAt, &d.Learn, &ats, &milestones); err != nil {
			return err
		}
		if err := setVisits(&d, ats, milestones, what); err != nil {
			return err
		}
		return fn(d)
	})
}

// visitCountsSQL counts the scans (shipment, as_of, milestone) whose first
// learn day is in (%FROM%, %TO%], by the labels of that first prediction,
// milestone and UTC day. The first learn day of a scan never changes once a
// version past it is built: later predictions of the same scan come with
// later learn days, and each learn day is a row of its own.
var visitCountsSQL = `SELECT carrier, service, lane, milestone, toUInt32(intDiv(toUInt32(as_of), 86400) * 86400) AS day, toUInt32(first) AS learned, count() AS n
FROM
(
    SELECT tracking_number, as_of, milestone, min(learn) AS first,
        argMin(carrier, ` + firstKey + `) AS carrier, argMin(service, ` + firstKey + `) AS service,
        argMin(lane, ` + firstKey + `) AS lane
    FROM ` + historyTable + `
    WHERE as_of >= %FROM% - ` + seconds(2*journeyBound) + ` AND as_of < %TO% AND learn <= %TO%
    GROUP BY tracking_number, as_of, milestone
    HAVING first > %FROM%
)
GROUP BY carrier, service, lane, milestone, day, learned
ORDER BY learned, day, carrier, service, lane, milestone`

// VisitCounts counts the predictions model version to learns after version
// from as scans under way (eta.VisitCount), each (shipment, as_of,
// milestone) once.
func (s *Store) VisitCounts(ctx context.Context, from, to uint32) ([]eta.VisitCount, error) {
	q := strings.NewReplacer("%FROM%", dateTime(int64(from)), "%TO%", dateTime(int64(to))).Replace(visitCountsSQL)
	what := fmt.Sprintf("the scans model version %s learns", ts(to).Format(time.DateOnly))
	var out []eta.VisitCount
	err := s.etaQuery(spilling(ctx), q, []string{historyTable}, what, func(scan func(...any) error) error {
		var v eta.VisitCount
		var m string
		var n uint64
		if err := scan(&v.Carrier, &v.Service, &v.Lane, &m, &v.Day, &v.Learn, &n); err != nil {
			return err
		}
		var err error
		if v.Milestone, err = eta.ParseMilestone(m); err != nil {
			return retry.Permanent(fmt.Errorf("cannot read %s: %w (written by another shiplens version?)", what, err))
		}
		v.N = float64(n)
		out = append(out, v)
		return nil
	})
	return out, err
}

// WriteProgress records, per Kafka partition, the latest model version
// whose content the partition has written in full. Writing a version again,
// or an older one, changes nothing: readers take the highest.
func (s *Store) WriteProgress(ctx context.Context, progress map[int]uint32) error {
	if len(progress) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+progressTable+" (partition, version)")
	if err != nil {
		return s.etaFailed(ctx, err, []string{progressTable}, "cannot prepare insert into %s", progressTable)
	}
	defer batch.Close()
	for p, v := range progress {
		if p < 0 || p > 1<<16-1 {
			return retry.Permanent(fmt.Errorf("cannot record model progress: partition %d is out of range", p))
		}
		if err := batch.Append(uint16(p), ts(v)); err != nil {
			return s.etaFailed(ctx, err, []string{progressTable}, "cannot fill the %s batch", progressTable)
		}
	}
	if err := batch.Send(); err != nil {
		return s.etaFailed(ctx, err, []string{progressTable}, "cannot insert into %s", progressTable)
	}
	return nil
}

// Progress returns the latest model version that every one of partitions
// has completed: the least of their progress, 0 while one of them has none.
func (s *Store) Progress(ctx context.Context, partitions []int) (uint32, error) {
	if len(partitions) == 0 {
		return 0, nil
	}
	done := map[int]uint32{}
	err := s.etaQuery(ctx, "SELECT toUInt16(partition), toUInt32(max(version)) FROM "+progressTable+" GROUP BY partition",
		[]string{progressTable}, "the model progress", func(scan func(...any) error) error {
			var p uint16
			var v uint32
			if err := scan(&p, &v); err != nil {
				return err
			}
			done[int(p)] = v
			return nil
		})
	if err != nil {
		return 0, err
	}
	least := uint32(0)
	first := true
	for _, p := range partitions {
		v := done[p]
		if first || v < least {
			least, first = v, false
		}
	}
	return least, nil
}

// FirstLearn returns the earliest learn day of any stored prediction, 0
// when none is stored: where the first model version starts.
func (s *Store) FirstLearn(ctx context.Context) (uint32, error) {
	var first uint32
	err := s.etaQuery(ctx, "SELECT toUInt32(min(learn)) FROM "+historyTable+" WHERE learn > toDateTime(0)", []string{historyTable}, "the first learn day",
		func(scan func(...any) error) error { return scan(&first) })
	return first, err
}
