package processor_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/store"
)

// TestRestoreSchemaMismatchStops gives the processor a shipment facts table that
// lacks a column it restores. Retrying cannot fix that, so Run must return a
// permanent error naming the column, instead of retrying forever.
func TestRestoreSchemaMismatchStops(t *testing.T) {
	p := newPipeline(t, 2)
	if err := p.store.Conn().Exec(context.Background(), "ALTER TABLE shipment_facts DROP COLUMN merchant"); err != nil {
		t.Fatal(err)
	}
	p.publish([]kafka.Message{{Key: []byte("LX1CN"), Value: []byte(`{"event_id":"e1","tracking_number":"LX1CN","carrier":"chinapost","status":"in_transit","occurred_at":"2026-11-20T10:00:00Z"}`)}})
	var retries atomic.Int64
	proc, err := processor.New(processor.Config{
		Brokers: p.brokers, Group: "schema-mismatch", SessionTimeout: 6 * time.Second,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnRetry: func(string, int, error) { retries.Add(1) },
	}, p.store)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only bounds a broken build; a correct one stops at the
	// first restore.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err = proc.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("the processor kept retrying a restore that cannot succeed (%d retries)", retries.Load())
	}
	if !retry.IsPermanent(err) || !errors.Is(err, store.ErrSchemaMismatch) || !strings.Contains(err.Error(), "merchant") || !strings.Contains(err.Error(), "restore") {
		t.Fatalf("Run returned %v; want a permanent schema mismatch naming the restore and column merchant", err)
	}
	if retries.Load() != 0 {
		t.Fatalf("%d retries of a permanent failure", retries.Load())
	}
}
