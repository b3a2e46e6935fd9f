package processor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics/alerts"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
)

// Headers of the records the processor publishes on shiplens.alerts and
// shiplens.notifications.
const (
	// HeaderID is the record's idempotency key: the alert's transition id
	// or the notification id.
	HeaderID = "shiplens-id"
	// HeaderSource is "<partition>:<offset>" of the event message whose
	// processing made the record.
	HeaderSource = "shiplens-source"
)

// Exactly once on Kafka. kafka-go has no transactions, so the processor
// makes its records' publication idempotent itself. An owner publishes a
// flush's records before it writes anything to ClickHouse and commits
// after both, and a partition's records go to the partition of the same
// number of each output topic, in the order of the event offsets that made
// them (HeaderSource). The records of events before the committed offset
// are therefore all published; of the ones after it, any prefix may be.
// So an owner that starts, or whose publish failed and may have landed in
// part, first reads the tail of its output partitions back to the first
// record of an event before the offset it resumes from, and does not
// publish again an id it finds there. Its processing is deterministic (the
// same events in the same order make the same ids), so nothing is
// published twice and nothing is lost.

// publisher publishes one owner's records.
type publisher struct {
	p         *Processor
	partition int
	// unsure: a tail may hold records of events at or after from, which
	// must not be published again; seen holds their ids once read.
	unsure bool
	from   int64
	seen   map[string]bool
	upTo   int64 // the largest source offset in seen
}

func newPublisher(p *Processor, partition int, from int64) *publisher {
	return &publisher{p: p, partition: partition, unsure: true, from: max(from, 0)}
}

// publish writes out's records to their topics, retrying. It returns an
// error only when ctx ended or the failure is permanent.
func (pb *publisher) publish(ctx context.Context, out *alerts.Out) error {
	if out.Len() == 0 {
		return nil
	}
	return pb.p.retry(ctx, "publish alerts and notifications", func(ctx context.Context) error {
		if pb.unsure {
			if err := pb.scan(ctx); err != nil {
				return err
			}
		}
		var as, ns []kafka.Message
		for i := range out.Alerts {
			if m, ok := pb.message(out.Alerts[i].TransitionID, out.AlertOffsets[i], &out.Alerts[i]); ok {
				as = append(as, m)
			}
		}
		for i := range out.Notes {
			if m, ok := pb.message(out.Notes[i].ID, out.NoteOffsets[i], &out.Notes[i]); ok {
				ns = append(ns, m)
			}
		}
		for _, w := range []struct {
			w    *kafka.Writer
			msgs []kafka.Message
		}{{pb.p.alertWriter, as}, {pb.p.noteWriter, ns}} {
			if len(w.msgs) == 0 {
				continue
			}
			if err := w.w.WriteMessages(ctx, w.msgs...); err != nil {
				// Part of it may have landed: read the tail again.
				pb.unsure, pb.from = true, firstOffset(out)
				return fmt.Errorf("cannot publish to %s: %w", w.w.Topic, kafkaadmin.CondenseWriteError(err))
			}
		}
		pb.p.metrics.alertsPublished.Add(int64(len(as)))
		pb.p.metrics.notesPublished.Add(int64(len(ns)))
		if len(pb.seen) > 0 && lastOffset(out) > pb.upTo {
			pb.seen = nil // past everything the tail held
		}
		return nil
	})
}

func firstOffset(out *alerts.Out) int64 {
	first := int64(-1)
	for _, offs := range [][]int64{out.AlertOffsets, out.NoteOffsets} {
		if len(offs) > 0 && (first < 0 || offs[0] < first) {
			first = offs[0]
		}
	}
	return max(first, 0)
}

func lastOffset(out *alerts.Out) int64 {
	last := int64(-1)
	if n := len(out.AlertOffsets); n > 0 {
		last = out.AlertOffsets[n-1]
	}
	if n := len(out.NoteOffsets); n > 0 {
		last = max(last, out.NoteOffsets[n-1])
	}
	return last
}

func (pb *publisher) message(id string, offset int64, v any) (kafka.Message, bool) {
	if pb.seen[id] {
		pb.p.metrics.republishSkipped.Add(1)
		return kafka.Message{}, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs: cannot fail
	}
	var key string
	switch r := v.(type) {
	case *alerts.Alert:
		key = r.TrackingNumber
	case *alerts.Notification:
		key = r.TrackingNumber
	}
	return kafka.Message{Key: []byte(key), Value: b, Partition: pb.partition, Headers: []kafka.Header{
		{Key: HeaderID, Value: []byte(id)},
		{Key: HeaderSource, Value: []byte(strconv.Itoa(pb.partition) + ":" + strconv.FormatInt(offset, 10))},
	}}, true
}

// scanChunk is how many records a tail scan reads at a time, going back.
const scanChunk = 2000

// scan reads the tails of the owner's output partitions back to the first
// record made from an event before pb.from, collecting the ids of the
// records made from later events.
func (pb *publisher) scan(ctx context.Context) error {
	seen := map[string]bool{}
	upTo := int64(-1)
	for _, topic := range []string{pb.p.cfg.Alerts.Topic, pb.p.cfg.Alerts.NotificationsTopic} {
		ends, err := kafkaadmin.EndOffsets(ctx, pb.p.cfg.Brokers, topic)
		if err != nil {
			return err
		}
		part := outputPartition(pb.partition, len(ends))
		end := ends[part]
		for end > 0 {
			start := max(end-scanChunk, 0)
			older, err := pb.read(ctx, topic, part, start, end, seen, &upTo)
			if err != nil {
				return err
			}
			if older {
				break
			}
			end = start
		}
	}
	pb.seen, pb.upTo, pb.unsure = seen, upTo, false
	pb.p.metrics.tailScans.Add(1)
	return nil
}

// read reads records [start, end) of topic's partition part. It reports
// whether it met a record of this owner's partition made from an event
// before pb.from.
func (pb *publisher) read(ctx context.Context, topic string, part int, start, end int64, seen map[string]bool, upTo *int64) (older bool, err error) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: pb.p.cfg.Brokers, Topic: topic, Partition: part, MinBytes: 1, MaxBytes: fetchMaxBytes, MaxWait: fetchMaxWait})
	defer r.Close()
	if err := r.SetOffset(start); err != nil {
		return false, err
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		m, err := r.FetchMessage(rctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return false, fmt.Errorf("cannot read back %s/%d at %d: %w", topic, part, start, err)
			}
			return false, err
		}
		if m.Offset >= end {
			return older, nil
		}
		var id, src string
		for _, h := range m.Headers {
			switch h.Key {
			case HeaderID:
				id = string(h.Value)
			case HeaderSource:
				src = string(h.Value)
			}
		}
		if p, off, ok := parseSource(src); ok && p == pb.partition {
			if off < pb.from {
				older = true
			} else {
				seen[id] = true
				*upTo = max(*upTo, off)
			}
		}
		if m.Offset == end-1 {
			return older, nil
		}
	}
}

func parseSource(s string) (partition int, offset int64, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			p, err1 := strconv.Atoi(s[:i])
			o, err2 := strconv.ParseInt(s[i+1:], 10, 64)
			return p, o, err1 == nil && err2 == nil
		}
	}
	return 0, 0, false
}

// outputPartition is where the records of events partition p go in a topic
// of n partitions: the same number, when the topic has enough.
func outputPartition(p, n int) int {
	if n <= 0 {
		return p
	}
	return p % n
}

// partitionBalancer sends each record to the partition its Message names
// (see outputPartition).
type partitionBalancer struct{}

func (partitionBalancer) Balance(msg kafka.Message, partitions ...int) int {
	return partitions[outputPartition(msg.Partition, len(partitions))]
}
