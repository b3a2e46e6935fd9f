// Package ingest brings tracking data into shiplens: it turns sources (the
// workload generator, files, carrier payloads) into canonical events and
// publishes them to the events topic, keyed by tracking number so that one
// shipment always lands in one partition. It must not compute metrics.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/schemas"
)

// ProducerConfig configures a Producer.
type ProducerConfig struct {
	Brokers      []string      // required
	Topic        string        // defaults to "shiplens.events"
	DLQTopic     string        // defaults to "shiplens.dlq"
	BatchSize    int           // messages per produce request; defaults to 5000
	BatchTimeout time.Duration // longest wait to fill a batch; defaults to 5ms (kafka-go's 1s default would stall small writes)
}

// Producer publishes canonical events to Kafka.
type Producer struct {
	w, dlq *kafka.Writer
	buf    []kafka.Message
}

// NewProducer returns a producer. Partitioning is murmur2 on the tracking
// number, the Java client's default, so every producer of a shipment's events
// agrees on its partition.
func NewProducer(c ProducerConfig) (*Producer, error) {
	if len(c.Brokers) == 0 {
		return nil, fmt.Errorf("invalid producer config: no Kafka brokers")
	}
	if c.Topic == "" {
		c.Topic = "shiplens.events"
	}
	if c.DLQTopic == "" {
		c.DLQTopic = "shiplens.dlq"
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
	}, dlq: &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        c.DLQTopic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: c.BatchTimeout,
		MaxAttempts:  10,
	}}, nil
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
		return fmt.Errorf("cannot publish %d events to %s: %w", len(p.buf), p.w.Topic, WriteError(err))
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
		return fmt.Errorf("cannot publish %d events to %s: %w", len(msgs), p.w.Topic, WriteError(err))
	}
	return nil
}

// DeadLetter writes rejected records to the DLQ topic and returns once Kafka
// acknowledged them. It is safe for concurrent use.
func (p *Producer) DeadLetter(ctx context.Context, letters []schemas.DeadLetter) error {
	msgs := make([]kafka.Message, len(letters))
	for i := range letters {
		msgs[i] = broker.DeadLetterMessage(&letters[i])
	}
	if err := p.dlq.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("cannot write %d dead letters to %s: %w", len(msgs), p.dlq.Topic, WriteError(err))
	}
	return nil
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

// WriteError condenses kafka-go's per-message kafka.WriteErrors, which repeat
// one cause thousands of times, into one line: how many failed and why.
func WriteError(err error) error {
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
