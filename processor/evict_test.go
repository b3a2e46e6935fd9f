package processor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/reference"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/store"
)

// journeyEvent is one event of a hand-made shipment, at day d (fractional).
func journeyEvent(tn, id string, st schemas.Status, d float64) schemas.Event {
	return schemas.Event{EventID: tn + "-" + id, TrackingNumber: tn, Carrier: "dhl", Service: "express",
		OriginCountry: "CN", DestinationCountry: "US", Status: st, Merchant: "m1",
		OccurredAt: from.Add(time.Duration(d * 24 * float64(time.Hour)))}
}

func messages(t *testing.T, events []schemas.Event) []kafka.Message {
	t.Helper()
	msgs := make([]kafka.Message, len(events))
	for i := range events {
		b, err := events[i].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = kafka.Message{Key: []byte(events[i].TrackingNumber), Value: b}
	}
	return msgs
}

// TestEvictionAndLookupOnMiss runs a stream whose watermark moves 60 days
// past shipments delivered on day 3: they leave memory and a restart does
// not restore them. Then late events arrive for one of them, closed long
// ago: an exception, and an earlier delivered that moves its delivery from
// day 3 to day 1. The processor must look it up in ClickHouse and apply them
// exactly: the report equals the reference over all events, and day 3 no
// longer counts it.
func TestEvictionAndLookupOnMiss(t *testing.T) {
	var early, later []schemas.Event
	// 20 shipments delivered on day 3, 20 delivered on day 55, 10 still
	// open since day 50, and one that sets the watermark to day 60.
	for i := range 20 {
		tn := fmt.Sprintf("OLD%02d", i)
		early = append(early, journeyEvent(tn, "a", schemas.PickedUp, 0), journeyEvent(tn, "b", schemas.InTransit, 1.2), journeyEvent(tn, "c", schemas.Delivered, 3))
	}
	for i := range 20 {
		tn := fmt.Sprintf("NEW%02d", i)
		early = append(early, journeyEvent(tn, "a", schemas.PickedUp, 50), journeyEvent(tn, "c", schemas.Delivered, 55))
	}
	for i := range 10 {
		tn := fmt.Sprintf("OPEN%02d", i)
		early = append(early, journeyEvent(tn, "a", schemas.PickedUp, 50))
	}
	early = append(early, journeyEvent("MARK", "a", schemas.PickedUp, 60))
	later = []schemas.Event{
		journeyEvent("OLD07", "x", schemas.Exception, 2),
		journeyEvent("OLD07", "y", schemas.Delivered, 1.5),
		journeyEvent("OPEN03", "b", schemas.Delivered, 61),
	}

	p := newPipeline(t, 1)
	p.publish(messages(t, early))
	d := newDone(p.ends)
	s1 := p.processor("evict", d)
	p.wait(d, "first run")
	snap := s1()
	// The retention sweep runs as the watermark moves: every OLD shipment
	// (delivered 57 days before it) is evicted, nothing else.
	if snap.Evicted != 20 {
		t.Errorf("evicted %d shipments, want the 20 delivered on day 3", snap.Evicted)
	}
	reference.Compare(t, p.report(), reference.Scorecard(early, from, to))

	// A restart restores only what is kept: 20 NEW, 10 OPEN and MARK.
	p.publish(messages(t, later))
	d = newDone(p.ends)
	s2 := p.processor("evict", d)
	p.wait(d, "second run")
	snap = s2()
	if snap.Restored != 31 {
		t.Errorf("restored %d shipments, want 31 (the evicted ones must not come back)", snap.Restored)
	}
	if snap.Found != 1 {
		t.Errorf("lookups found %d stored shipments, want 1 (OLD07); looked up %d", snap.Found, snap.LookedUp)
	}
	all := append(append([]schemas.Event(nil), early...), later...)
	reference.Compare(t, p.report(), reference.Scorecard(all, from, to))

	// OLD07 moved from day 3 to day 1.
	rows, err := p.store.Scorecard(context.Background(), store.ScorecardQuery{From: from.AddDate(0, 0, 3), To: from.AddDate(0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Delivered != 19 {
		t.Errorf("day 3 after the correction: %+v, want 19 delivered", rows)
	}
	rows, err = p.store.Scorecard(context.Background(), store.ScorecardQuery{From: from.AddDate(0, 0, 1), To: from.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Delivered != 1 {
		t.Errorf("day 1 after the correction: %+v, want 1 delivered", rows)
	}
}

// factsFail is a sink whose fact writes fail permanently once armed, after
// the aggregates of the same write have landed: the processor stops as if it
// crashed between the two inserts.
type factsFail struct {
	*store.Store
	armed bool
}

var errInjected = errors.New("injected failure after the aggregates landed")

func (f *factsFail) WriteFacts(ctx context.Context, facts []analytics.Fact) error {
	if f.armed {
		return retry.Permanent(errInjected)
	}
	return f.Store.WriteFacts(ctx, facts)
}

// TestCrashBetweenAggregatesAndFacts stops a processor right after an
// aggregates write landed and before its facts did. The next processor finds
// the aggregates ahead of the facts (their position is past the committed
// offset) and must replay those events as facts only: the report counts
// every shipment once.
func TestCrashBetweenAggregatesAndFacts(t *testing.T) {
	events, msgs := workload(t, 800, 17)
	p := newPipeline(t, 2)
	half := len(msgs) / 2
	p.publish(msgs[:half])
	d := newDone(p.ends)
	stop := p.processor("crash", d)
	p.wait(d, "first half")
	stop()
	committed := p.ends // the first run committed every partition to here

	p.publish(msgs[half:])
	sink := &factsFail{Store: p.store, armed: true}
	proc, err := processor.New(processor.Config{
		Brokers: p.brokers, Group: "crash", FlushInterval: 100 * time.Millisecond, SessionTimeout: 6 * time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Run(context.Background()); !errors.Is(err, errInjected) {
		t.Fatalf("Run returned %v, want the injected failure", err)
	}
	pos, err := p.store.Positions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ahead := 0
	for part, c := range committed {
		if pos[part] > c {
			ahead++
		}
	}

	d = newDone(p.ends)
	stop = p.processor("crash", d)
	p.wait(d, "after the crash")
	stop()
	reference.Compare(t, p.report(), reference.Scorecard(events, from, to))
	if ahead == 0 {
		t.Errorf("no partition's aggregates were ahead of its commits after the crash (positions %v, committed %v): the test did not crash between the writes", pos, committed)
	}
}
