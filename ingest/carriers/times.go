package carriers

import (
	"fmt"
	"strings"
	"time"
)

// Layouts carriers use for a time with a UTC offset. time.Parse accepts a
// fractional second after the seconds even where a layout has none.
var offsetLayouts = []string{
	"2006-01-02T15:04:05Z07:00", // RFC 3339: FedEx, 17TRACK, La Poste, Australia Post
	"2006-01-02T15:04:05Z0700",  // offset without a colon
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04Z07:00", // 17TRACK time_raw date, time and timezone
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05 -0700",
}

// Layouts of local wall-clock times without an offset: DHL, UPS, SEKO,
// AfterShip checkpoints of some couriers, USPS eventTimestamp.
var localLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"20060102 150405", // UPS date and time, joined by upsTime
	"2006-01-02",
	"20060102",
}

// parseTime reads a carrier timestamp. A time with an offset (or "Z", or a
// trailing " UTC"/" GMT") is used as given; one without is read in zone,
// UTC when zone is nil (see the package comment on what that assumes).
func parseTime(s string, zone *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if zone == nil {
		zone = time.UTC
	}
	for _, suffix := range []string{" UTC", " GMT", " Z"} {
		if u, ok := strings.CutSuffix(s, suffix); ok {
			s, zone = strings.TrimSpace(u), time.UTC
			break
		}
	}
	for _, l := range offsetLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want e.g. 2026-05-01T08:30:00+08:00, 2026-05-01T08:30:00 or 2026-05-01)", clip(s, 40))
}

// clip cuts s to n bytes for error messages, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
