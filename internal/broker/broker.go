// Package broker is shiplens' Kafka plumbing shared by commands and tests: an
// embedded broker (franz-go's kfake, speaking the real Kafka wire protocol on
// 127.0.0.1), topic creation and consumer-group lag. It must not contain
// business logic; clients of the event stream use kafka-go directly.
package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/shiplens/shiplens/schemas"
)

// Well-known topics (DESIGN section 1).
const (
	EventsTopic        = "shiplens.events"
	DLQTopic           = "shiplens.dlq"
	AlertsTopic        = "shiplens.alerts"
	NotificationsTopic = "shiplens.notifications"
)

// DefaultPartitions is the partition count of topics the embedded broker and
// EnsureTopics create.
const DefaultPartitions = 8

// Options configures an embedded broker.
type Options struct {
	DataDir    string // persist topics and committed offsets here; empty keeps them in memory
	Partitions int    // partitions of each seeded topic; defaults to DefaultPartitions
	Port       int    // listen port on 127.0.0.1; 0 picks a free one
}

// Embedded is an in-process Kafka broker.
type Embedded struct {
	c *kfake.Cluster
}

// Start starts an embedded broker with shiplens' topics already created.
func Start(o Options) (*Embedded, error) {
	if o.Partitions <= 0 {
		o.Partitions = DefaultPartitions
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(o.Port),
		kfake.SeedTopics(int32(o.Partitions), EventsTopic, DLQTopic, AlertsTopic, NotificationsTopic),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(o.Partitions),
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot start embedded Kafka broker: %w", err)
	}
	return &Embedded{c: c}, nil
}

// Addrs returns the broker's host:port addresses.
func (e *Embedded) Addrs() []string { return e.c.ListenAddrs() }

// Cluster returns the kfake cluster, for fault injection in tests.
func (e *Embedded) Cluster() *kfake.Cluster { return e.c }

// Close stops the broker.
func (e *Embedded) Close() { e.c.Close() }

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
		return nil, errors.New("no Kafka brokers given: want --brokers host:port[,host:port]")
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

// DeadLetterMessage converts a dead letter into the record to write to the
// DLQ topic.
func DeadLetterMessage(d *schemas.DeadLetter) kafka.Message {
	hs := d.Headers()
	m := kafka.Message{Key: d.Key, Value: d.Value, Headers: make([]kafka.Header, len(hs))}
	for i, h := range hs {
		m.Headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
	}
	return m
}

// ParseDeadLetter reads a record of the DLQ topic.
func ParseDeadLetter(m *kafka.Message) (schemas.DeadLetter, error) {
	hs := make([]schemas.Header, len(m.Headers))
	for i, h := range m.Headers {
		hs[i] = schemas.Header{Key: h.Key, Value: h.Value}
	}
	return schemas.ParseDeadLetter(m.Key, m.Value, hs)
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
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond, MaxBytes: 16 << 20})
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
