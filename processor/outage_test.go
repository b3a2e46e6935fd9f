package processor_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shiplens/shiplens/internal/broker"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/reference"
	"github.com/shiplens/shiplens/store"
)

// proxy forwards TCP connections to a backend until it is cut: then it drops
// every connection and refuses new ones, as a ClickHouse outage would.
type proxy struct {
	backend string
	ln      net.Listener
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]bool
	wg      sync.WaitGroup
}

func newProxy(t *testing.T, backend string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{backend: backend, ln: ln, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[b] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(b, c); b.Close() }()
		go func() { defer p.wg.Done(); io.Copy(c, b); c.Close() }()
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestClickHouseOutage cuts the processor off ClickHouse mid-stream: it must
// retry with backoff, commit nothing it has not written, and end with the
// same report as if nothing happened.
func TestClickHouseOutage(t *testing.T) {
	events, msgs := workload(t, 2000, 17)
	emb, err := broker.Start(broker.Options{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	addr, db := chtest.DB(t)
	if _, err := store.Migrate(context.Background(), store.Config{Addr: addr, Database: db}, nil); err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, addr)
	store, err := store.Open(context.Background(), store.Config{Addr: px.ln.Addr().String(), Database: db, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	retried := make(chan struct{})
	var retriedOnce sync.Once
	p := &pipeline{t: t, brokers: emb.Addrs(), store: store, onRetry: func(string, int, error) {
		retriedOnce.Do(func() { close(retried) })
	}}

	// Publish half and let it be written, then cut ClickHouse off and
	// publish the rest.
	half := len(msgs) / 2
	p.publish(msgs[:half])
	firstEnds := p.ends
	var (
		mu      sync.Mutex
		cutOff  bool
		current = newDone(firstEnds)
	)
	proc, stop := p.processorWith("outage", func(part int, next int64) {
		mu.Lock()
		defer mu.Unlock()
		if cutOff && next > firstEnds[part] {
			t.Errorf("partition %d committed offset %d while ClickHouse was unreachable", part, next)
		}
		current.commit(part, next)
	})
	p.wait(current, "before the outage")
	mu.Lock()
	cutOff = true
	mu.Unlock()
	px.cut()
	p.publish(msgs[half:])
	mu.Lock()
	current = newDone(p.ends)
	second := current
	mu.Unlock()
	// Wait until a write has failed and is being retried.
	select {
	case <-retried:
	case <-time.After(2 * time.Minute):
		t.Fatal("no write was retried within two minutes of the outage")
	}
	if proc.Metrics().Snapshot().Retries == 0 {
		t.Fatal("a retry happened but the retries metric is 0")
	}
	mu.Lock()
	cutOff = false
	mu.Unlock()
	px.restore()
	p.wait(second, "after the outage")
	s := stop()
	t.Logf("retries during the outage: %d", s.Retries)
	reference.Compare(t, p.report(), reference.Scorecard(events, from, to))
}
