package eta

// DwellQuantile returns the q-quantile, in hours, of the time delivered
// shipments of a carrier, service and lane spent at milestone m before their
// next scan: how long such a parcel normally waits there. It reads the
// carrier+service+lane group, else the carrier+lane group, else the lane,
// the first whose weight at m (deliveries, decayed as the model decays
// them) is at least minWeight; ok is false when none is. The value is the
// upper edge of the histogram bucket that holds the quantile, so it errs
// long by at most one bucket (4%).
func (m *Model) DwellQuantile(carrier, service, lane string, ms Milestone, q, minWeight float64) (hours float64, ok bool) {
	keys, has := levelKeys(carrier, service, lane)
	scale := m.scale()
	for _, l := range [...]Basis{BasisCarrierServiceLane, BasisCarrierLane, BasisLane} {
		if !has[l] {
			continue
		}
		g := m.levels[l][keys[l]]
		if g == nil {
			continue
		}
		h := g.Dwell[ms]
		if h == nil || h.N*scale < minWeight {
			continue
		}
		want, acc := q*h.N, 0.0
		for i, c := range h.C {
			acc += c
			if acc >= want {
				return bucketEdge(h.Lo + i), true
			}
		}
		return bucketEdge(h.Lo + len(h.C) - 1), true
	}
	return 0, false
}
