// Package kafkaadmin is shiplens' Kafka administration over kafka-go, for
// production commands and tests alike: parsing broker lists, checking that
// brokers answer, creating topics, end offsets, consumer-group lag and reading
// a topic from its start. It must not start brokers (internal/broker does, for
// tests and the demo) nor import a test-only dependency.
package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// DefaultPartitions is the partition count of topics EnsureTopics creates
// when none is given, and of the embedded broker's topics.
const DefaultPartitions = 8

// ParseBrokers splits a comma-separated host:port list and checks each entry.
func ParseBrokers(s string) ([]string, error) {
	var out []string
	for _, b := range strings.Split(s, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(b); err != nil {
			return nil, fmt.Errorf("cannot parse broker address %q: want host:port", b)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no Kafka brokers given: want host:port[,host:port]")
	}
	return out, nil
}

// Client returns a kafka-go admin client for brokers.
func Client(brokers []string) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
}

// Ping checks that the brokers answer a metadata request.
func Ping(ctx context.Context, brokers []string) error {
	if _, err := Client(brokers).Metadata(ctx, &kafka.MetadataRequest{}); err != nil {
		return fmt.Errorf("cannot reach Kafka at %s: %w", strings.Join(brokers, ","), err)
	}
	return nil
}

// EnsureTopics creates each topic that does not exist yet, with partitions
// partitions.
func EnsureTopics(ctx context.Context, brokers []string, partitions int, topics ...string) error {
	if partitions <= 0 {
		partitions = DefaultPartitions
	}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: 1})
	}
	res, err := Client(brokers).CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("cannot create topics %s: %w", strings.Join(topics, ", "), err)
	}
	for t, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("cannot create topic %s: %w", t, err)
		}
	}
	return nil
}

// Partitions returns the partition ids of topic.
func Partitions(ctx context.Context, brokers []string, topic string) ([]int, error) {
	md, err := Client(brokers).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata of topic %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("cannot read metadata of topic %s: %w", topic, t.Error)
		}
		ids := make([]int, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			ids = append(ids, p.ID)
		}
		return ids, nil
	}
	return nil, fmt.Errorf("topic %s does not exist", topic)
}

// EndOffsets returns the next offset to be written of every partition of topic.
func EndOffsets(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	parts, err := Partitions(ctx, brokers, topic)
	if err != nil {
		return nil, err
	}
	reqs := make([]kafka.OffsetRequest, 0, len(parts))
	for _, p := range parts {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	res, err := Client(brokers).ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("cannot list offsets of topic %s: %w", topic, err)
	}
	out := make(map[int]int64, len(parts))
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("cannot list offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		out[po.Partition] = po.LastOffset
	}
	return out, nil
}

// Lag returns how many messages of topic the group has not committed yet, and
// the total number of messages in the topic.
func Lag(ctx context.Context, brokers []string, group, topic string) (lag, total int64, err error) {
	ends, err := EndOffsets(ctx, brokers, topic)
	if err != nil {
		return 0, 0, err
	}
	parts := make([]int, 0, len(ends))
	for p := range ends {
		parts = append(parts, p)
	}
	res, err := Client(brokers).OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return 0, 0, fmt.Errorf("cannot fetch offsets of group %s: %w", group, err)
	}
	committed := map[int]int64{}
	switch {
	case errors.Is(res.Error, kafka.GroupIdNotFound):
		// A group that never committed: everything is lag.
	case res.Error != nil:
		return 0, 0, fmt.Errorf("cannot fetch offsets of group %s: %w", group, res.Error)
	default:
		for _, po := range res.Topics[topic] {
			if po.CommittedOffset > 0 {
				committed[po.Partition] = po.CommittedOffset
			}
		}
	}
	for p, end := range ends {
		total += end
		lag += end - committed[p]
	}
	return lag, total, nil
}

// ReadAll calls fn with every message of topic from the start of each
// partition to its end at the time of the call, partition by partition.
func ReadAll(ctx context.Context, brokers []string, topic string, fn func(*kafka.Message) error) error {
	ends, err := EndOffsets(ctx, brokers, topic)
	if err != nil {
		return err
	}
	parts := make([]int, 0, len(ends))
	for p := range ends {
		parts = append(parts, p)
	}
	sort.Ints(parts)
	for _, p := range parts {
		if ends[p] == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 500 * time.Millisecond, MaxBytes: 1 << 20}) // see processor/owner.go: fetchMaxBytes
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				r.Close()
				return fmt.Errorf("cannot read %s/%d: %w", topic, p, err)
			}
			if err := fn(&m); err != nil {
				r.Close()
				return err
			}
			if m.Offset+1 >= ends[p] {
				break
			}
		}
		r.Close()
	}
	return nil
}

// WaitOptions tunes WaitCaughtUp.
type WaitOptions struct {
	Poll time.Duration // between lag checks; defaults to 100ms
	// Progress, if set, is called after each check with the committed and
	// total message counts.
	Progress func(committed, total int64)
	// Check, if set, is called after each check; an error from it ends the
	// wait (e.g. "the processor stopped", "no partition owned for a minute").
	Check func() error
}

// WaitCaughtUp returns once group has committed every message of topic
// (and topic holds at least one), when ctx ends, or when o.Check fails. Lag
// that cannot be read yet (the group has not joined) counts as not caught up.
func WaitCaughtUp(ctx context.Context, brokers []string, group, topic string, o WaitOptions) error {
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	var lastErr error
	for {
		lag, total, err := Lag(ctx, brokers, group, topic)
		lastErr = err
		if err == nil {
			if o.Progress != nil {
				o.Progress(total-lag, total)
			}
			if lag == 0 && total > 0 {
				return nil
			}
		}
		if o.Check != nil {
			if err := o.Check(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("group %s did not catch up on %s: %w (last lag check: %v)", group, topic, ctx.Err(), lastErr)
			}
			return fmt.Errorf("group %s did not catch up on %s: %w (%d of %d messages uncommitted)", group, topic, ctx.Err(), lag, total)
		case <-tick.C:
		}
	}
}

// CondenseWriteError turns kafka-go's per-message kafka.WriteErrors, which
// repeat one cause thousands of times, into one line: how many failed and
// the first cause.
func CondenseWriteError(err error) error {
	var we kafka.WriteErrors
	if !errors.As(err, &we) {
		return err
	}
	for _, e := range we {
		if e != nil {
			return fmt.Errorf("%d of %d messages failed, first: %w", we.Count(), len(we), e)
		}
	}
	return err
}
