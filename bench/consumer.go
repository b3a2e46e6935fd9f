package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shiplens/shiplens/ingest"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
)

// publish writes the workload's events to topic, created with the
// workload's partition count, and returns the end offset of each partition.
func (w *workload) publish(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	if err := kafkaadmin.EnsureTopics(ctx, brokers, len(w.byPart), topic); err != nil {
		return nil, err
	}
	p, err := ingest.NewProducer(ingest.ProducerConfig{Brokers: brokers, Topic: topic})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	for i := range w.events {
		if err := p.Add(&w.events[i]); err != nil {
			return nil, err
		}
		if p.Pending() >= 20_000 {
			if err := p.Flush(ctx); err != nil {
				return nil, err
			}
		}
	}
	if err := p.Flush(ctx); err != nil {
		return nil, err
	}
	ends, err := kafkaadmin.EndOffsets(ctx, brokers, topic)
	if err != nil {
		return nil, err
	}
	var n int64
	for _, e := range ends {
		n += e
	}
	if n != int64(len(w.events)) {
		return nil, fmt.Errorf("topic %s holds %d messages after publishing %d events: use a new topic", topic, n, len(w.events))
	}
	return ends, nil
}

// firstAndLast records the time of the first and of the last message read.
type firstAndLast struct {
	once  sync.Once
	first time.Time
	n     atomic.Int64
}

func (f *firstAndLast) read(k int64) {
	f.once.Do(func() { f.first = time.Now() })
	f.n.Add(k)
}

// bareKafkaGo drains topic through a kafka-go consumer group of its own,
// with one reader per assigned partition configured as the processor's
// owners configure theirs, doing nothing with the messages. It returns
// events/s from the first message read to the last.
func bareKafkaGo(ctx context.Context, brokers []string, topic string, ends map[int]int64) (float64, error) {
	var total int64
	for _, e := range ends {
		total += e
	}
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:               fmt.Sprintf("bench-bare-%d", time.Now().UnixNano()),
		Brokers:          brokers,
		Topics:           []string{topic},
		StartOffset:      kafka.FirstOffset,
		JoinGroupBackoff: 500 * time.Millisecond,
	})
	if err != nil {
		return 0, err
	}
	defer group.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var fl firstAndLast
	var last atomic.Int64 // unix nanos of the last message
	for fl.n.Load() < total {
		gen, err := group.Next(ctx)
		if err != nil {
			return 0, fmt.Errorf("bare kafka-go consumer: %w", err)
		}
		var wg sync.WaitGroup
		for _, a := range gen.Assignments[topic] {
			part, end := a.ID, ends[a.ID]
			if a.Offset >= end {
				continue
			}
			wg.Add(1)
			gen.Start(func(gctx context.Context) {
				defer wg.Done()
				r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: part,
					MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 500 * time.Millisecond, QueueCapacity: 4096})
				defer r.Close()
				if err := r.SetOffset(kafka.FirstOffset); err != nil {
					return
				}
				for {
					m, err := r.ReadMessage(gctx)
					if err != nil {
						return
					}
					fl.read(1)
					if m.Offset+1 >= end {
						last.Store(time.Now().UnixNano())
						return
					}
				}
			})
		}
		wg.Wait()
	}
	return float64(total) / time.Unix(0, last.Load()).Sub(fl.first).Seconds(), nil
}

// bareFranz drains topic through a franz-go consumer group of its own,
// doing nothing with the records.
func bareFranz(ctx context.Context, brokers []string, topic string, ends map[int]int64) (float64, error) {
	var total int64
	for _, e := range ends {
		total += e
	}
	// From the assignment: a poll returns a whole fetch at once, so the
	// time of the first record read would leave the first fetch out.
	var assigned atomic.Int64
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(fmt.Sprintf("bench-franz-%d", time.Now().UnixNano())),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			assigned.CompareAndSwap(0, time.Now().UnixNano())
		}))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var n int64
	for n < total {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("franz-go consumer: %d of %d records read: %w", n, total, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = errors.Join(ferr, fmt.Errorf("%s/%d: %w", t, p, err)) })
		if ferr != nil {
			return 0, fmt.Errorf("franz-go consumer: %w", ferr)
		}
		n += int64(fs.NumRecords())
	}
	return float64(total) / time.Since(time.Unix(0, assigned.Load())).Seconds(), nil
}
