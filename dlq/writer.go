package dlq

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

// Writer puts dead letters on the DLQ topic. It is safe for concurrent use.
type Writer struct {
	w *kafka.Writer
}

// NewWriter returns a writer to topic (schemas.DLQTopic when empty) on
// brokers. Letters are spread over partitions by key hash.
func NewWriter(brokers []string, topic string) *Writer {
	if topic == "" {
		topic = schemas.DLQTopic
	}
	return &Writer{w: &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		MaxAttempts:  10,
	}}
}

// Topic returns the topic the writer writes to.
func (w *Writer) Topic() string { return w.w.Topic }

// Write writes letters and returns once Kafka acknowledged them all.
func (w *Writer) Write(ctx context.Context, letters ...Letter) error {
	if len(letters) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(letters))
	for i := range letters {
		msgs[i] = letters[i].Message()
	}
	if err := w.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("cannot write %d dead letters to %s: %w", len(msgs), w.w.Topic, kafkaadmin.CondenseWriteError(err))
	}
	return nil
}

// Close flushes and closes the writer.
func (w *Writer) Close() error { return w.w.Close() }
