package gen

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestQueue checks the calendar queue against a sort: arrivals spread from
// minutes to more than a lap of the ring ahead, with long empty stretches,
// come out in (arrival, shipment) order and none is lost.
func TestQueue(t *testing.T) {
	f := func(seed uint64, n int, maxAhead int64) {
		t.Helper()
		rng := rand.New(rand.NewPCG(seed, 1))
		start := int64(1_700_000_000_000)
		q := newQueue(start)
		var want, got []slot
		now := start
		ships := make([]shipment, n)
		for i := range ships {
			ships[i].idx = i
			// Producers only insert at or after what was taken out last.
			now += rng.Int64N(3 * hourMs)
			if rng.IntN(50) == 0 {
				now += 400 * 24 * hourMs // a long pause
			}
			x := slot{at: now + 1 + rng.Int64N(maxAhead), s: &ships[i]}
			if rng.IntN(20) == 0 {
				x.at = now + 1 // ties across shipments
			}
			want = append(want, x)
			q.insert(x)
			for q.next(now) {
				got = append(got, q.heap[0])
				q.popTop()
			}
		}
		for q.next(1 << 62) {
			got = append(got, q.heap[0])
			q.popTop()
		}
		slices.SortFunc(want, func(a, b slot) int {
			return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.s.idx, b.s.idx))
		})
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: %d slots out, %d in, or out of order", seed, len(got), len(want))
		}
		if q.len() != 0 || q.pending != 0 {
			t.Fatalf("seed %d: queue not empty after draining: %d", seed, q.len())
		}
	}
	f(1, 5000, hourMs/2)
	f(2, 5000, 60*24*hourMs)
	f(3, 5000, 400*24*hourMs) // beyond one lap of the ring
	f(4, 1, 10)
	f(5, 20000, 3*24*hourMs)
}

// TestQueueMoveTop re-keys shipments the way Run does, across hours.
func TestQueueMoveTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	q := newQueue(0)
	ships := make([]shipment, 1000)
	left := make([]int, len(ships))
	for i := range ships {
		ships[i].idx = i
		left[i] = 1 + rng.IntN(12)
		q.insert(slot{at: 1 + rng.Int64N(48*hourMs), s: &ships[i]})
	}
	var last slot
	n := 0
	for q.next(1 << 62) {
		top := q.heap[0]
		if n > 0 && top.less(last) {
			t.Fatalf("arrival %d after %d", top.at, last.at)
		}
		last = top
		n++
		i := top.s.idx
		if left[i]--; left[i] > 0 {
			q.moveTop(top.at + 1 + rng.Int64N(100*hourMs))
		} else {
			q.popTop()
		}
	}
	if n == 0 || q.len() != 0 {
		t.Fatalf("%d arrivals, %d left", n, q.len())
	}
	for i, l := range left {
		if l != 0 {
			t.Fatalf("shipment %d has %d arrivals left", i, l)
		}
	}
}
