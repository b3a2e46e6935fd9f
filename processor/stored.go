package processor

import (
	"context"

	"github.com/bits-and-blooms/bloom/v3"
)

// KeySink is a Sink that can list the tracking numbers a partition's facts
// hold. With one, an owner keeps a filter of the shipments storage may
// hold for its partition (stored), and looks up only the misses it may
// hold: on a stream of new shipments, nearly every shipment is a miss, and
// each flush's lookup read most of the partition's tracking numbers in
// ClickHouse, a cost that grew with the history stored. *store.Store is
// one.
type KeySink interface {
	TrackingNumbers(ctx context.Context, partition int, fn func(trackingNumber string)) error
}

// stored is a filter of the tracking numbers that storage may hold for one
// partition: those it held at restore and those written since. A number
// not in it is certainly not stored; one in it may be (1% false
// positives, which cost a lookup that finds nothing). It grows as a
// series of Bloom filters, each twice the size of the one before, so that
// its size follows the shipments added without knowing their number.
type stored struct {
	filters []*bloom.BloomFilter
	room    uint    // numbers the last filter takes before the next is made
	size    uint    // capacity of the last filter
	fp      float64 // false-positive rate of the last filter
}

// storedFP is the false-positive rate of the first filter; each next one
// has half its predecessor's, so that all together stay under twice it.
const storedFP = 0.01

// newStored returns a filter holding tns, with room for as many again.
func newStored(tns []string) *stored {
	s := &stored{fp: 2 * storedFP}
	s.grow(max(2*uint(len(tns)), 1<<14))
	for _, tn := range tns {
		s.add(tn)
	}
	return s
}

func (s *stored) grow(n uint) {
	s.fp /= 2
	s.filters = append(s.filters, bloom.NewWithEstimates(n, s.fp))
	s.room, s.size = n, n
}

// add records that storage may hold tn. The caller checks mayHold first,
// so that shipments written again and again take no more room.
func (s *stored) add(tn string) {
	if s.room == 0 {
		s.grow(2 * s.size)
	}
	s.filters[len(s.filters)-1].AddString(tn)
	s.room--
}

// mayHold reports whether storage may hold tn.
func (s *stored) mayHold(tn string) bool {
	for _, f := range s.filters {
		if f.TestString(tn) {
			return true
		}
	}
	return false
}
