package store

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/internal/chserver"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/schemas"
)

// flush writes what p holds pending for Kafka partition part, as the
// processor does: it looks its misses up and resolves them, then writes the
// aggregates with the position moved by adv, then the facts.
func flush(t *testing.T, s *Store, p *analytics.Partition, part int, adv analytics.Advance) {
	t.Helper()
	ctx := context.Background()
	found := map[string]analytics.Shipment{}
	if err := s.Lookup(ctx, part, p.Misses(), func(tn string, st analytics.Shipment) { found[tn] = st }); err != nil {
		t.Fatal(err)
	}
	p.Resolve(func(tn string) (analytics.Shipment, bool) { st, ok := found[tn]; return st, ok })
	facts, days := p.Pending(part)
	if err := s.WriteDays(ctx, days, []analytics.Advance{adv}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFacts(ctx, facts); err != nil {
		t.Fatal(err)
	}
	p.Written()
}

// TestLateDeliveryMovesDay: a delivered event that arrives late but
// happened earlier moves the shipment from its old delivery day to the new
// one, whether its owner still holds it or has to look it up.
func TestLateDeliveryMovesDay(t *testing.T) {
	hour := func(h float64) time.Time { return day0.Add(time.Duration(h * float64(time.Hour))) }
	dhl, ups := label{"dhl", "express", "acme", "CN-US"}, label{"ups", "standard", "zeta", "CN-GB"}
	events := []schemas.Event{
		dhl.event("LATE", "l1", schemas.PickedUp, hour(0)),
		dhl.event("LATE", "l2", schemas.Delivered, hour(5*24+6)), // day 5, transit 126 h
		ups.event("STAYS", "s1", schemas.PickedUp, hour(0)),
		ups.event("STAYS", "s2", schemas.Delivered, hour(5*24+12)), // day 5, transit 132 h
	}
	late := dhl.event("LATE", "l3", schemas.Delivered, hour(3*24+6)) // day 3, transit 78 h
	const part = 2
	day := func(n int) ScorecardQuery {
		return ScorecardQuery{From: day0.AddDate(0, 0, n), To: day0.AddDate(0, 0, n)}
	}
	for _, evicted := range []bool{false, true} {
		name := "in memory"
		if evicted {
			name = "looked up"
		}
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			p := analytics.NewPartition()
			for i := range events {
				p.Apply(&events[i], false)
			}
			flush(t, s, p, part, analytics.Advance{Partition: part, From: 0, To: 4})
			rows, err := s.Scorecard(ctx, day(5))
			if err != nil || len(rows) != 2 || rows[0].Carrier != "dhl" || rows[0].Delivered != 1 || !near(rows[0].TransitHoursP50, 126) {
				t.Fatalf("day 5 before the late event: %v, %v", dumpRows(rows), err)
			}
			if evicted {
				p = analytics.NewPartition() // a restart: LATE must be looked up
			}
			p.Apply(&late, false)
			flush(t, s, p, part, analytics.Advance{Partition: part, From: 4, To: 5})

			rows, err = s.Scorecard(ctx, day(5))
			if err != nil || len(rows) != 1 || rows[0].Carrier != "ups" || rows[0].Delivered != 1 || !near(rows[0].TransitHoursP50, 132) {
				t.Fatalf("day 5: %v, %v; want only ups, 1 delivered in 132 h", dumpRows(rows), err)
			}
			rows, err = s.Scorecard(ctx, day(3))
			if err != nil || len(rows) != 1 || rows[0].Carrier != "dhl" || rows[0].Delivered != 1 ||
				!near(rows[0].TransitHoursP50, 78) || !near(rows[0].TransitHoursP90, 78) {
				t.Fatalf("day 3: %v, %v; want dhl, 1 delivered in 78 h", dumpRows(rows), err)
			}
			rows, err = s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10), Carrier: "dhl"})
			if err != nil || len(rows) != 1 || rows[0].Delivered != 1 || !near(rows[0].TransitHoursP90, 78) {
				t.Fatalf("days 0-10: %v, %v; want dhl, 1 delivered in 78 h", dumpRows(rows), err)
			}
			perDay, err := s.DeliveredPerDay(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)})
			if got := dayCounts(perDay); err != nil || got != "2026-09-04:1 2026-09-06:1" {
				t.Fatalf("delivered per day: %s, %v", got, err)
			}
			if pos, err := s.Positions(ctx); err != nil || !maps.Equal(pos, map[int]int64{part: 5}) {
				t.Fatalf("positions %v, %v", pos, err)
			}
			var stored analytics.Shipment
			if err := s.Lookup(ctx, part, []string{"LATE"}, func(_ string, st analytics.Shipment) { stored = st }); err != nil {
				t.Fatal(err)
			}
			if stored.DeliveredAt != uint32(hour(3*24+6).Unix()) {
				t.Fatalf("stored LATE delivered at %d, want day 3 06:00", stored.DeliveredAt)
			}
		})
	}
}

// TestWriteDaysRetried: a retried write counts once whether or not the
// first attempt landed, and positions that neither attempt explains fail
// for good.
func TestWriteDaysRetried(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	check := func(what string, delivered int64, pos map[int]int64) {
		t.Helper()
		rows, err := s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10), Carrier: "dhl"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Delivered != delivered {
			t.Errorf("%s: dhl rows %v, want %d delivered", what, dumpRows(rows), delivered)
		}
		if got, err := s.Positions(ctx); err != nil || !maps.Equal(got, pos) {
			t.Errorf("%s: positions %v, %v; want %v", what, got, err, pos)
		}
	}
	facts := sampleFacts() // A and B dhl, partition 3; C 4px, partition 5
	adv := []analytics.Advance{{Partition: 3, From: 0, To: 10}, {Partition: 5, From: 0, To: 7}}
	if err := s.WriteDays(ctx, daysOf(facts), adv, false); err != nil {
		t.Fatal(err)
	}
	check("first write", 2, map[int]int64{3: 10, 5: 7})
	if err := s.WriteDays(ctx, daysOf(facts), adv, true); err != nil {
		t.Fatal(err)
	}
	check("the same write retried after it landed", 2, map[int]int64{3: 10, 5: 7})

	d := shipment(ev("d1", "dhl", "CN-US", schemas.PickedUp, 0), ev("d2", "dhl", "CN-US", schemas.Delivered, 30))
	more := daysOf([]Fact{{TrackingNumber: "D", Partition: 3, State: d}})
	if err := s.WriteDays(ctx, more, []analytics.Advance{{Partition: 3, From: 10, To: 12}}, true); err != nil {
		t.Fatal(err)
	}
	check("a retried write that had not landed", 3, map[int]int64{3: 12, 5: 7})
	if p, err := s.Position(ctx, 3); err != nil || p != 12 {
		t.Errorf("Position(3) = %d, %v; want 12", p, err)
	}
	if p, err := s.Position(ctx, 4); err != nil || p != 0 {
		t.Errorf("Position(4) = %d, %v; want 0", p, err)
	}

	f := func(what string, advances []analytics.Advance) {
		t.Helper()
		err := s.WriteDays(ctx, more, advances, true)
		if !errors.Is(err, ErrPositionMoved) || !retry.IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent error wrapping ErrPositionMoved", what, err)
		}
		check(what, 3, map[int]int64{3: 12, 5: 7})
	}
	f("position neither from nor to", []analytics.Advance{{Partition: 3, From: 5, To: 20}})
	f("one partition landed, the other not", []analytics.Advance{{Partition: 3, From: 10, To: 12}, {Partition: 5, From: 7, To: 9}})
	f("a partition nobody wrote", []analytics.Advance{{Partition: 8, From: 3, To: 4}})
}

// dayCounts renders DeliveredPerDay's answer as "day:n day:n".
func dayCounts(ds []DayCount) string {
	var b bytes.Buffer
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d.Day.Format(time.DateOnly) + ":" + strconv.FormatInt(d.N, 10))
	}
	return b.String()
}

// insertCutter is a TCP proxy to a ClickHouse server that breaks the first
// connection whose client sends marker (the start of an INSERT) once the
// server has the insert's data and before the server's answer reaches the
// client: the client sees a failed insert that landed. The stages of that
// connection follow the native protocol: the client sends the query, the
// server answers with the table's header, the client sends the data, the
// server says it is done. From the data on, the server's bytes are dropped.
type insertCutter struct {
	ln       net.Listener
	upstream string
	marker   []byte
	wg       sync.WaitGroup

	mu     sync.Mutex
	conns  []net.Conn
	victim *cutConn
	sent   chan struct{} // closed when the victim's client has sent the data
}

type cutConn struct {
	client, server net.Conn
	stage          atomic.Int32
}

const (
	beforeInsert = iota
	querySent    // the client sent the INSERT
	headerSent   // the server answered with the header
	dataSent     // the client sent data: the server's bytes go nowhere
)

func newInsertCutter(t *testing.T, upstream, marker string) *insertCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &insertCutter{ln: ln, upstream: upstream, marker: []byte(marker), sent: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *insertCutter) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		cc := &cutConn{client: c, server: up}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.clientToServer(cc)
		go p.serverToClient(cc)
	}
}

func (p *insertCutter) clientToServer(cc *cutConn) {
	defer p.wg.Done()
	defer cc.server.Close()
	buf := make([]byte, 64<<10)
	var tail []byte // the end of the bytes before, for a marker across reads
	for {
		n, err := cc.client.Read(buf)
		if n > 0 {
			seen := append(append([]byte(nil), tail...), buf[:n]...)
			switch cc.stage.Load() {
			case beforeInsert:
				if bytes.Contains(seen, p.marker) {
					p.mu.Lock()
					if p.victim == nil {
						p.victim = cc
						cc.stage.Store(querySent)
					}
					p.mu.Unlock()
				}
			case headerSent:
				// Set before the data leaves, so that the server's
				// answer to it finds the stage already changed.
				cc.stage.Store(dataSent)
				close(p.sent)
			}
			if _, err := cc.server.Write(buf[:n]); err != nil {
				return
			}
			tail = seen[max(0, len(seen)-len(p.marker)):]
		}
		if err != nil {
			return
		}
	}
}

func (p *insertCutter) serverToClient(cc *cutConn) {
	defer p.wg.Done()
	defer cc.client.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := cc.server.Read(buf)
		if n > 0 {
			// The header: the client's next bytes are data.
			cc.stage.CompareAndSwap(querySent, headerSent)
			if cc.stage.Load() != dataSent {
				if _, err := cc.client.Write(buf[:n]); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes both sides of the victim connection.
func (p *insertCutter) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.victim != nil {
		p.victim.client.Close()
		p.victim.server.Close()
	}
}

func (p *insertCutter) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestWriteDaysConnectionCut: the connection of an insert breaks after the
// server received it, so the insert landed but the writer saw an error; the
// retry must find the positions moved and write nothing more.
func TestWriteDaysConnectionCut(t *testing.T) {
	addr, db := chtest.DB(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, Config{Addr: addr, Database: db}, nil); err != nil {
		t.Fatal(err)
	}
	direct, err := chserver.Connect(ctx, addr, db)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	p := newInsertCutter(t, addr, "INSERT INTO "+daysTable)
	s, err := Open(ctx, Config{Addr: p.ln.Addr().String(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	facts := sampleFacts()
	adv := []analytics.Advance{{Partition: 3, From: 0, To: 10}, {Partition: 5, From: 0, To: 7}}
	done := make(chan error, 1)
	go func() { done <- s.WriteDays(ctx, daysOf(facts), adv, false) }()

	// Wait for the data to reach the server and land there, then cut.
	deadline := time.After(30 * time.Second)
	select {
	case <-p.sent:
	case err := <-done:
		t.Fatalf("WriteDays returned %v before it sent its data", err)
	case <-deadline:
		t.Fatal("the insert's data never passed the proxy")
	}
	var landed uint64
	for landed == 0 {
		if err := direct.QueryRow(ctx, "SELECT count() FROM "+daysTable).Scan(&landed); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("WriteDays returned %v while its answer was held back", err)
		case <-deadline:
			t.Fatal("the insert never landed")
		case <-time.After(10 * time.Millisecond): // the next poll
		}
	}
	p.cut()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("WriteDays did not return after its connection was cut")
	}
	if err == nil || retry.IsPermanent(err) || !Retryable(err) {
		t.Fatalf("WriteDays over the cut connection: %v, want a retryable error", err)
	}
	t.Logf("first attempt: %v", err)

	// The retry, through the same store and proxy, writes nothing.
	if err := s.WriteDays(ctx, daysOf(facts), adv, true); err != nil {
		t.Fatal(err)
	}
	var rows uint64
	if err := direct.QueryRow(ctx, "SELECT count() FROM "+daysTable).Scan(&rows); err != nil || rows != landed {
		t.Fatalf("%d rows after the retry, %v; want the %d of the first attempt", rows, err, landed)
	}
	if pos, err := s.Positions(ctx); err != nil || !maps.Equal(pos, map[int]int64{3: 10, 5: 7}) {
		t.Fatalf("positions %v, %v; want 3:10 5:7", pos, err)
	}
	checkSampleRollup(t, s)
}

// checkSampleRollup checks the scorecard of sampleFacts, which reads
// carrier_days, and the positions held there.
func checkSampleRollup(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if pos, err := s.positions(ctx, rollupTable); err != nil || !maps.Equal(pos, map[int]int64{3: 10, 5: 7}) {
		t.Fatalf("positions in %s %v, %v; want 3:10 5:7", rollupTable, pos, err)
	}
	card, err := s.Scorecard(ctx, ScorecardQuery{From: day0, To: day0.AddDate(0, 0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	// sampleFacts: A and B delivered by dhl, C by 4px, each counted once.
	if len(card) != 2 || card[0].Carrier != "4px" || card[0].Delivered != 1 || card[0].Exceptions != 1 ||
		card[1].Carrier != "dhl" || card[1].Delivered != 2 || card[1].Exceptions != 1 || card[1].WithPromise != 1 {
		t.Fatalf("scorecard %v", dumpRows(card))
	}
}

// TestWriteDaysRepairsRollup: an insert whose part landed in shipment_days
// while its view's rows did not reach carrier_days (the server cancelled the
// query between the two when the connection broke); the retry writes the
// rollup rows alone.
func TestWriteDaysRepairsRollup(t *testing.T) {
	addr, db := chtest.DB(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, Config{Addr: addr, Database: db}, nil); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Config{Addr: addr, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	facts := sampleFacts()
	adv := []analytics.Advance{{Partition: 3, From: 0, To: 10}, {Partition: 5, From: 0, To: 7}}
	if err := s.WriteDays(ctx, daysOf(facts), adv, false); err != nil {
		t.Fatal(err)
	}
	var days uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+daysTable).Scan(&days); err != nil {
		t.Fatal(err)
	}
	// What the cancelled view leaves: the rollup without this insert.
	if err := s.conn.Exec(ctx, "TRUNCATE TABLE "+rollupTable); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteDays(ctx, daysOf(facts), adv, true); err != nil {
		t.Fatal(err)
	}
	var after uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+daysTable).Scan(&after); err != nil || after != days {
		t.Fatalf("%d rows in %s after the repair, %v; want the %d written before", after, daysTable, err, days)
	}
	checkSampleRollup(t, s)
	// Once repaired, a further retry writes nothing to either table.
	if err := s.WriteDays(ctx, daysOf(facts), adv, true); err != nil {
		t.Fatal(err)
	}
	checkSampleRollup(t, s)

	// The other way round cannot come from one insert: another writer.
	if err := s.conn.Exec(ctx, "TRUNCATE TABLE "+daysTable); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteDays(ctx, daysOf(facts), adv, true); !errors.Is(err, ErrPositionMoved) || !retry.IsPermanent(err) {
		t.Fatalf("retry with the rollup ahead of %s: %v, want a permanent ErrPositionMoved", daysTable, err)
	}
}
