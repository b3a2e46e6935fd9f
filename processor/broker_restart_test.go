package processor_test

import (
	"sync"
	"testing"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/reference"
)

// TestBrokerRestart stops the Kafka broker under a running processor and
// starts it again on the same port and data dir (kfake persists topics and
// committed offsets): the processor must ride it out and finish exactly.
func TestBrokerRestart(t *testing.T) {
	events, msgs := workload(t, 1500, 19)
	dir := t.TempDir()
	emb, err := broker.Start(broker.Options{Partitions: 3, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p := newPipelineOn(t, emb)
	half := len(msgs) / 2
	p.publish(msgs[:half])
	first := newDone(p.ends)
	var (
		mu      sync.Mutex
		current = first
	)
	_, stop := p.processorWith("restart-broker", func(part int, next int64) {
		mu.Lock()
		c := current
		mu.Unlock()
		c.commit(part, next)
	})
	p.wait(first, "first half")

	port := portOf(t, emb.Addrs()[0])
	emb.Close()
	emb2, err := broker.Start(broker.Options{Partitions: 3, DataDir: dir, Port: port})
	if err != nil {
		t.Fatalf("cannot restart the broker on port %d: %v", port, err)
	}
	t.Cleanup(emb2.Close)
	p.publish(msgs[half:])
	second := newDone(p.ends)
	mu.Lock()
	current = second
	mu.Unlock()
	p.wait(second, "after the broker restart")
	stop()
	reference.Compare(t, p.report(), reference.Scorecard(events, from, to))
}
