package gen

import (
	"math/bits"
	"time"
)

// Tracking numbers: each format derives its serial from the shipment index
// through an affine permutation modulo its serial space, so that numbers
// look scattered, differ per seed and carrier, and never repeat within a
// Run (the spaces all hold at least MaxShipments serials).

// permMul is odd and not a multiple of 5, so it is invertible modulo every
// power of ten.
const permMul = 2654435761

func perm(i, m, salt uint64) uint64 { return (i*permMul + salt%m) % m }

// serialSpace says where trackingNumber writes the serial of format f: the
// size of its space, its digits and the characters after it.
func serialSpace(f trackFormat) (m uint64, digits, tail int) {
	switch f {
	case fmtS10:
		return 1e8, 8, 3 // check digit, country
	case fmtUPS:
		return 1e7, 7, 1 // check digit
	case fmtFedEx:
		return 1e11, 11, 0
	case fmtDHL:
		return 1e9, 9, 1 // check digit
	case fmt4PX:
		return 1e11, 11, 2 // country
	default: // fmtDPD, fmtCainiao, fmtYunExpress, fmtYanwen
		return 1e12, 12, 0
	}
}

// trackingIndex inverts the serial permutation of trackingNumber: the index
// of the shipment of carrier c whose tracking number is tn, if tn is one of
// the workload of seed at all. The caller confirms it by building that
// shipment, for only the serial is checked here.
func trackingIndex(seed int64, c *carrier, tn string) (int, bool) {
	m, digits, tail := serialSpace(c.format)
	end := len(tn) - tail
	if end-digits < 0 {
		return 0, false
	}
	var serial uint64
	for _, ch := range []byte(tn[end-digits : end]) {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		serial = serial*10 + uint64(ch-'0')
	}
	salt := carrierSalt(seed, c.code) % m
	hi, lo := bits.Mul64((serial+m-salt)%m, modInverse(permMul%m, m))
	i := bits.Rem64(hi, lo, m)
	if i >= MaxShipments {
		return 0, false
	}
	return int(i), true
}

// modInverse returns the inverse of a modulo m, for a coprime to m.
func modInverse(a, m uint64) uint64 {
	// Extended Euclid on (m, a), keeping only a's coefficient.
	r0, r1 := int64(m), int64(a)
	t0, t1 := int64(0), int64(1)
	for r1 != 0 {
		q := r0 / r1
		r0, r1 = r1, r0-q*r1
		t0, t1 = t1, t0-q*t1
	}
	if t0 < 0 {
		t0 += int64(m)
	}
	return uint64(t0)
}

// carrierSalt mixes the seed with the carrier code.
func carrierSalt(seed int64, code string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(code); i++ {
		h = (h ^ uint64(code[i])) * 1099511628211
	}
	return splitmix(uint64(seed) ^ h)
}

func (r *run) trackingNumber(s *shipment, m *merchant) string {
	i := uint64(s.idx)
	salt := carrierSalt(r.g.cfg.Seed, s.c.code)
	b := r.tbuf[:0]
	switch s.c.format {
	case fmtS10:
		// UPU S10: service indicator, 8-digit serial, check digit, country.
		pre := s.svc.prefixes[r.rng.IntN(len(s.svc.prefixes))]
		serial := perm(i, 1e8, salt)
		b = append(b, pre...)
		b = appendDigits(b, serial, 8)
		b = append(b, s10Check(serial))
		b = append(b, s.lane.from...)
	case fmtUPS:
		b = append(b, "1Z"...)
		b = append(b, m.shipper...)
		b = append(b, s.svc.upsCode...)
		b = appendDigits(b, perm(i, 1e7, salt), 7)
		b = append(b, upsCheck(b[2:]))
	case fmtFedEx:
		b = append(b, '7')
		b = appendDigits(b, perm(i, 1e11, salt), 11)
	case fmtDHL:
		serial := perm(i, 1e9, salt)
		b = appendDigits(b, serial, 9)
		b = append(b, byte('0'+serial%7))
	case fmtDPD:
		b = append(b, "05"...)
		b = appendDigits(b, perm(i, 1e12, salt), 12)
	case fmtCainiao:
		b = append(b, "LP00"...)
		b = appendDigits(b, perm(i, 1e12, salt), 12)
	case fmtYunExpress:
		// YT, the two-digit year and week of the order, a 12-digit serial.
		t := time.Unix(s.order, 0).UTC()
		b = append(b, "YT"...)
		b = appendDigits(b, uint64(t.Year()%100), 2)
		b = appendDigits(b, uint64((t.YearDay()-1)/7+1), 2)
		b = appendDigits(b, perm(i, 1e12, salt), 12)
	case fmt4PX:
		b = append(b, "4PX30"...)
		b = appendDigits(b, perm(i, 1e11, salt), 11)
		b = append(b, s.lane.from...)
	case fmtYanwen:
		b = append(b, "YW"...)
		b = appendDigits(b, perm(i, 1e12, salt), 12)
	}
	r.tbuf = b
	return string(b)
}

// appendDigits appends v as exactly n decimal digits.
func appendDigits(b []byte, v uint64, n int) []byte {
	b = append(b, make([]byte, n)...)
	for j := len(b) - 1; j >= len(b)-n; j-- {
		b[j] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// s10Check is the UPU S10 check digit of an 8-digit serial.
func s10Check(serial uint64) byte {
	weights := [8]uint64{8, 6, 4, 2, 3, 5, 9, 7}
	var sum uint64
	for j := 7; j >= 0; j-- {
		sum += serial % 10 * weights[j]
		serial /= 10
	}
	c := 11 - sum%11
	switch c {
	case 10:
		c = 0
	case 11:
		c = 5
	}
	return byte('0' + c)
}

// upsCheck is the check digit of a 1Z number over the 15 characters after
// "1Z": letters count as (code-63) mod 10, even positions double.
func upsCheck(chars []byte) byte {
	sum := 0
	for j, ch := range chars {
		v := int(ch - '0')
		if ch >= 'A' && ch <= 'Z' {
			v = int(ch-63) % 10
		}
		if j%2 == 1 {
			v *= 2
		}
		sum += v
	}
	return byte('0' + (10-sum%10)%10)
}
