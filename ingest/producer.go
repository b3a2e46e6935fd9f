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

	"github.com/shiplens/shiplens/schemas"
)

// ProducerConfig configures a Producer.
type ProducerConfig struct {
	Brokers      []string      // required
	Topic        string        // defaults to "shiplens.events"
	BatchSize    int           // messages per produce request; defaults to 5000
	BatchTimeout time.Duration // longest wait to fill a batch; defaults to 5ms (kafka-go's 1s default would stall small writes)
}

// Producer publishes canonical events to Kafka.
type Producer struct {
	w   *kafka.Writer
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
		c.Topic = "shiplens.events"
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

// Close flushes nothing; call Flush first.
func (p *Producer) Close() error { return p.w.Close() }

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
