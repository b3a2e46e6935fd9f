// Package ingest brings tracking data into shiplens: it turns sources (the
// workload generator, files, carrier payloads) into canonical events and
// publishes them to the events topic, keyed by tracking number so that one
// shipment always lands in one partition. It must not compute metrics.
package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/dlq"
	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

// ProducerConfig configures a Producer.
type ProducerConfig struct {
	Brokers      []string      // required
	Topic        string        // defaults to schemas.EventsTopic
	DLQTopic     string        // defaults to schemas.DLQTopic
	BatchSize    int           // messages per produce request; defaults to 5000
	BatchTimeout time.Duration // longest wait to fill a batch; defaults to 5ms (kafka-go's 1s default would stall small writes)
}

// Producer publishes canonical events to Kafka.
type Producer struct {
	w   *kafka.Writer
	dlq *dlq.Writer
	buf []kafka.Message
}

// NewProducer returns a producer. Partitioning is murmur2 on the tracking
// number, the Java client's default, so every producer of a shipment's events
// agrees on its partition.
func NewProducer(c ProducerConfig) (*Producer, error) {
	if len(c.Brokers) == 0 {
		return nil, fmt.Errorf("invalid producer config: no Kafka brokers")
	}
	if c.Topic == "" {
		c.Topic = schemas.EventsTopic
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 5000
	}
	if c.BatchTimeout <= 0 {
		c.BatchTimeout = 5 * time.Millisecond
	}
	return &Producer{w: &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        c.Topic,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    c.BatchSize,
		BatchTimeout: c.BatchTimeout,
		MaxAttempts:  10,
		Compression:  kafka.Lz4,
	}, dlq: dlq.NewWriter(c.Brokers, c.DLQTopic)}, nil
}

// Add queues an event; Flush sends what is queued.
func (p *Producer) Add(e *schemas.Event) error {
	b, err := e.Marshal()
	if err != nil {
		return fmt.Errorf("cannot encode event %s: %w", e.EventID, err)
	}
	p.buf = append(p.buf, kafka.Message{Key: []byte(e.TrackingNumber), Value: b})
	return nil
}

// Pending returns the number of queued events.
func (p *Producer) Pending() int { return len(p.buf) }

// Flush sends every queued event and returns once Kafka acknowledged them all.
func (p *Producer) Flush(ctx context.Context) error {
	if len(p.buf) == 0 {
		return nil
	}
	if err := p.w.WriteMessages(ctx, p.buf...); err != nil {
		return fmt.Errorf("cannot publish %d events to %s: %w", len(p.buf), p.w.Topic, kafkaadmin.CondenseWriteError(err))
	}
	clear(p.buf)
	p.buf = p.buf[:0]
	return nil
}

// Publish sends events and returns once Kafka acknowledged them all. Unlike
// Add and Flush it is safe for concurrent use.
func (p *Producer) Publish(ctx context.Context, events []schemas.Event) error {
	msgs := make([]kafka.Message, len(events))
	for i := range events {
		b, err := events[i].Marshal()
		if err != nil {
			return fmt.Errorf("cannot encode event %s: %w", events[i].EventID, err)
		}
		msgs[i] = kafka.Message{Key: []byte(events[i].TrackingNumber), Value: b}
	}
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("cannot publish %d events to %s: %w", len(msgs), p.w.Topic, kafkaadmin.CondenseWriteError(err))
	}
	return nil
}

// DeadLetter writes rejected records to the DLQ topic and returns once Kafka
// acknowledged them. It is safe for concurrent use.
func (p *Producer) DeadLetter(ctx context.Context, letters []dlq.Letter) error {
	return p.dlq.Write(ctx, letters...)
}

var _ Publisher = (*Producer)(nil)

// Close closes the Kafka writers; call Flush first.
func (p *Producer) Close() error {
	err := p.w.Close()
	if derr := p.dlq.Close(); err == nil {
		err = derr
	}
	return err
}
