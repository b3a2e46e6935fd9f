package bench

import (
	"runtime"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shiplens/shiplens/analytics"

	"github.com/shiplens/shiplens/analytics/eta"
	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/processor"
	"github.com/shiplens/shiplens/schemas"
)

// workload is the generated stream, as the producer would key and spread it.
type workload struct {
	events []schemas.Event
	msgs   []kafka.Message   // in production order
	byPart [][]kafka.Message // the same, per partition, as Murmur2Balancer spreads them
	bytes  int64
	model  *eta.Model // learned from every delivery, so predictions take the learned path
	from   time.Time  // first and last day of delivery, for scorecards
	to     time.Time
}

func newWorkload(shipments int, seed int64, partitions int) (*workload, error) {
	cfg := gen.Config{Shipments: shipments, Seed: seed}.WithDefaults()
	g, err := gen.New(cfg)
	if err != nil {
		return nil, err
	}
	w := &workload{events: g.Events(), byPart: make([][]kafka.Message, partitions)}
	w.msgs = make([]kafka.Message, len(w.events))
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	var bal kafka.Murmur2Balancer
	for i := range w.events {
		v, err := w.events[i].Marshal()
		if err != nil {
			return nil, err
		}
		m := kafka.Message{Key: []byte(w.events[i].TrackingNumber), Value: v}
		m.Partition = bal.Balance(m, parts...)
		w.msgs[i] = m
		w.byPart[m.Partition] = append(w.byPart[m.Partition], m)
		w.bytes += int64(len(v))
	}
	w.model = processor.TrainModel(w.events)
	w.from = cfg.Start
	w.to = cfg.Start.Add(cfg.Span + 180*24*time.Hour)
	return w, nil
}

// decode times the hand-written decoder over every message.
func (w *workload) decode() (float64, error) {
	now := time.Now()
	began := time.Now()
	for i := range w.msgs {
		if _, err := schemas.Decode(w.msgs[i].Value, now); err != nil {
			return 0, err
		}
	}
	return float64(len(w.msgs)) / since(began), nil
}

// processOneCore runs one owner over every message at GOMAXPROCS=1, with
// predictions and alert timers on.
func (w *workload) processOneCore() float64 {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	m := processor.NewInMemory(processor.InMemoryConfig{Model: w.model, Alerts: true})
	began := time.Now()
	for i := range w.msgs {
		m.Handle(&w.msgs[i])
	}
	m.Flush()
	return float64(len(w.msgs)) / since(began)
}

// processAllCores runs one owner per partition, as many at once as there
// are cores, as the processor's owners run.
func (w *workload) processAllCores() float64 {
	runtime.GC()
	var wg sync.WaitGroup
	next := make(chan int, len(w.byPart))
	for p := range w.byPart {
		next <- p
	}
	close(next)
	began := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for p := range next {
				m := processor.NewInMemory(processor.InMemoryConfig{Model: w.model, Alerts: true})
				msgs := w.byPart[p]
				for i := range msgs {
					m.Handle(&msgs[i])
				}
				m.Flush()
			}
		})
	}
	wg.Wait()
	return float64(len(w.msgs)) / since(began)
}

// heldBytes returns the heap an owner holds per shipment: the difference
// between an owner of every shipment and an owner of half of them, over
// the difference in shipments held, so that what does not grow with
// shipments (daily aggregates of the same days, the model, the rules) is
// left out. It also returns how many the full owner holds, and how many
// of those are open.
func (w *workload) heldBytes() (perShipment float64, held, open int) {
	half := map[string]bool{}
	seen := map[string]bool{}
	var firstHalf []kafka.Message
	for i := range w.msgs {
		tn := string(w.msgs[i].Key)
		if !seen[tn] {
			seen[tn] = true
			half[tn] = len(seen)%2 == 0
		}
		if half[tn] {
			firstHalf = append(firstHalf, w.msgs[i])
		}
	}
	heap := func(msgs []kafka.Message) (int64, *processor.InMemory) {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := processor.NewInMemory(processor.InMemoryConfig{Model: w.model, Alerts: true})
		for i := range msgs {
			m.Handle(&msgs[i])
		}
		m.Flush()
		runtime.GC()
		runtime.ReadMemStats(&after)
		return int64(after.HeapAlloc) - int64(before.HeapAlloc), m
	}
	hHalf, mHalf := heap(firstHalf)
	heldHalf := mHalf.Partition().Len()
	mHalf = nil
	hAll, mAll := heap(w.msgs)
	part := mAll.Partition()
	held = part.Len()
	part.Each(func(_ string, s *analytics.Shipment, _ *analytics.Memo) {
		if !s.Closed() {
			open++
		}
	})
	runtime.KeepAlive(mAll)
	return float64(hAll-hHalf) / float64(max(held-heldHalf, 1)), held, open
}
