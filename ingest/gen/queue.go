package gen

// queue orders the shipments in flight by the arrival of their next event.
// It is a calendar queue: shipments whose next arrival falls before the end
// of the current hour sit in a small 4-ary min-heap, the others in hourly
// buckets on a ring that the current hour walks along. Most shipments wait
// hours or days for their next scan, so the heap stays small and in cache
// however many shipments are in flight; a plain heap over all of them
// misses the cache on every level once they number in the hundred
// thousands.
type queue struct {
	heap    []slot   // arrivals before end
	ring    [][]slot // arrivals from end on, by hour modulo ringHours
	end     int64    // end of the current hour, Unix ms
	pending int      // slots in the ring
	spare   [][]slot // arrays of drained buckets, for reuse
}

// slot is a shipment keyed by the arrival of its next event.
type slot struct {
	at int64 // Unix ms
	s  *shipment
}

const (
	hourMs    = 3600 * 1000
	ringHours = 4096 // 170 days; later arrivals wait in their bucket for another lap
)

func newQueue(startMs int64) queue {
	return queue{ring: make([][]slot, ringHours), end: (floorDiv(startMs, hourMs) + 1) * hourMs}
}

// less breaks ties between equal arrivals by shipment index, so that the
// order never depends on how the heap happens to be laid out.
func (a slot) less(b slot) bool {
	return a.at < b.at || a.at == b.at && a.s.idx < b.s.idx
}

func (q *queue) len() int { return len(q.heap) + q.pending }

// insert adds x, whose arrival must not precede the last one taken out.
func (q *queue) insert(x slot) {
	if q.len() == 0 {
		// Jump over empty stretches instead of walking them hour by hour.
		q.end = max(q.end, (floorDiv(x.at, hourMs)+1)*hourMs)
	}
	if x.at < q.end {
		q.push(x)
		return
	}
	b := &q.ring[floorDiv(x.at, hourMs)%ringHours]
	if *b == nil && len(q.spare) > 0 {
		*b = q.spare[len(q.spare)-1]
		q.spare = q.spare[:len(q.spare)-1]
	}
	*b = append(*b, x)
	q.pending++
}

// next reports whether there is an arrival no later than limit; if so it is
// heap[0].
func (q *queue) next(limit int64) bool {
	for len(q.heap) == 0 {
		if q.pending == 0 || q.end > limit {
			return false
		}
		q.advance()
	}
	return q.heap[0].at <= limit
}

// advance makes the next hour current, moving its bucket into the heap.
func (q *queue) advance() {
	q.end += hourMs
	i := floorDiv(q.end-1, hourMs) % ringHours
	b := q.ring[i]
	k := 0
	for _, x := range b {
		if x.at < q.end {
			q.push(x)
			q.pending--
		} else {
			b[k] = x
			k++
		}
	}
	clear(b[k:])
	q.ring[i] = b[:k]
	if k == 0 && cap(b) > 0 {
		// Pass the array on: the ring's memory then follows the shipments
		// in flight, not every hour's peak.
		q.spare = append(q.spare, b[:0])
		q.ring[i] = nil
	}
}

// moveTop re-keys the top shipment to its next arrival at.
func (q *queue) moveTop(at int64) {
	if at < q.end {
		q.heap[0].at = at
		q.down(0)
		return
	}
	s := q.heap[0].s
	q.popTop()
	q.insert(slot{at: at, s: s})
}

func (q *queue) popTop() {
	last := len(q.heap) - 1
	q.heap[0] = q.heap[last]
	q.heap[last] = slot{}
	q.heap = q.heap[:last]
	if last > 0 {
		q.down(0)
	}
}

// The heap is 4-ary: half the depth of a binary heap, and the four
// children of a node share a cache line.
func (q *queue) push(x slot) {
	q.heap = append(q.heap, x)
	h := q.heap
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) down(i int) {
	h := q.heap
	n := len(h)
	for {
		c := 4*i + 1
		if c >= n {
			return
		}
		m := c
		for j := c + 1; j < min(c+4, n); j++ {
			if h[j].less(h[m]) {
				m = j
			}
		}
		if !h[m].less(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
