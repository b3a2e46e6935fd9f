package analytics

import (
	"math"
	"sort"
)

// Gamma is the ratio between consecutive sketch buckets: bucket i holds values
// in [Gamma^i, Gamma^(i+1)), so any value read back from a bucket is within
// (Gamma-1)/(Gamma+1) < 1% of every value the bucket holds.
const Gamma = 1.02

// ZeroBucket holds values that are zero or negative (a duration that the
// data makes negative is reported as zero).
const ZeroBucket = math.MinInt16

var logGamma = math.Log(Gamma)

// Bucket returns the sketch bucket of a value.
func Bucket(v float64) int16 {
	if !(v > 1e-9) { // also catches NaN
		return ZeroBucket
	}
	i := math.Floor(math.Log(v) / logGamma)
	if i < math.MinInt16+1 {
		return math.MinInt16 + 1
	}
	if i > math.MaxInt16 {
		return math.MaxInt16
	}
	return int16(i)
}

// BucketValue returns the value that represents bucket i: the point whose
// relative distance to both bucket edges is the same.
func BucketValue(i int16) float64 {
	if i == ZeroBucket {
		return 0
	}
	return 2 * math.Pow(Gamma, float64(i)+1) / (Gamma + 1)
}

// Sketch is a mergeable log-bucketed histogram (the DDSketch idea) of
// non-negative values. The zero value is empty and ready to use.
type Sketch struct {
	counts map[int16]int64
	n      int64
}

// Add counts value v once.
func (s *Sketch) Add(v float64) { s.AddBucket(Bucket(v), 1) }

// AddBucket adds n (which may be negative, to retract) to bucket i.
func (s *Sketch) AddBucket(i int16, n int64) {
	if s.counts == nil {
		s.counts = make(map[int16]int64)
	}
	s.counts[i] += n
	s.n += n
	if s.counts[i] == 0 {
		delete(s.counts, i)
	}
}

// Merge adds every count of o to s.
func (s *Sketch) Merge(o *Sketch) {
	for i, n := range o.counts {
		s.AddBucket(i, n)
	}
}

// Count returns the number of values in s.
func (s *Sketch) Count() int64 { return s.n }

// Quantile returns the nearest-rank q-quantile (the value of rank ceil(q*n),
// counting from 1) to within 1% relative error, or NaN when s is empty.
func (s *Sketch) Quantile(q float64) float64 {
	if s.n <= 0 {
		return math.NaN()
	}
	rank := NearestRank(q, s.n)
	keys := make([]int, 0, len(s.counts))
	for i := range s.counts {
		keys = append(keys, int(i))
	}
	sort.Ints(keys)
	var seen int64
	for _, k := range keys {
		seen += s.counts[int16(k)]
		if seen >= rank {
			return BucketValue(int16(k))
		}
	}
	return BucketValue(int16(keys[len(keys)-1]))
}

// NearestRank returns the 1-based rank of the q-quantile among n sorted
// values: ceil(q*n), clamped to [1, n].
func NearestRank(q float64, n int64) int64 {
	r := int64(math.Ceil(q * float64(n)))
	if r < 1 {
		r = 1
	}
	if r > n {
		r = n
	}
	return r
}
