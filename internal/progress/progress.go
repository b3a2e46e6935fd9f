// Package progress draws a progress bar for long command-line work: redrawn in
// place on a terminal, a few plain lines elsewhere (logs, CI). It must not be
// used by library packages; only commands report progress.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar is a progress bar. Its methods are safe for concurrent use.
type Bar struct {
	mu        sync.Mutex
	w         io.Writer
	tty       bool
	label     string
	unit      string
	total     int64
	n         int64
	start     time.Time
	lastDraw  time.Time
	lastShare int // last quarter printed when not a terminal
	done      bool
}

// New returns a bar counting to total (0 when unknown) in unit, drawn on w.
// It redraws in place when w, or the writer it wraps (Unwrap), is a terminal.
func New(w io.Writer, label string, total int64, unit string) *Bar {
	b := &Bar{w: w, label: label, total: total, unit: unit, start: time.Now()}
	under := w
	for {
		u, ok := under.(interface{ Unwrap() io.Writer })
		if !ok {
			break
		}
		under = u.Unwrap()
	}
	if f, ok := under.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

// SetTotal changes the total, e.g. once it becomes known.
func (b *Bar) SetTotal(total int64) {
	b.mu.Lock()
	b.total = total
	b.mu.Unlock()
}

// Add advances the bar by n.
func (b *Bar) Add(n int64) { b.Set(-1, n) }

// Set moves the bar to n (or, when n < 0, advances it by delta).
func (b *Bar) Set(n, delta int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n >= 0 {
		b.n = n
	} else {
		b.n += delta
	}
	b.draw(false)
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.draw(true)
	b.done = true
}

func (b *Bar) draw(final bool) {
	if b.done {
		return
	}
	now := time.Now()
	if b.tty {
		if !final && now.Sub(b.lastDraw) < 100*time.Millisecond {
			return
		}
		b.lastDraw = now
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(b.w, "\r%s%s", b.line(now), end)
		return
	}
	if b.total > 0 {
		share := int(b.n * 4 / b.total)
		if final && share == b.lastShare && b.n >= b.total {
			return // the 100% line is already out
		}
		if final || share > b.lastShare {
			b.lastShare = share
			fmt.Fprintln(b.w, b.line(now))
		}
	} else if final {
		fmt.Fprintln(b.w, b.line(now))
	}
}

func (b *Bar) line(now time.Time) string {
	el := now.Sub(b.start)
	rate := float64(b.n) / max(el.Seconds(), 1e-3)
	if b.total <= 0 {
		return fmt.Sprintf("%-22s %d %s  %s/s  %s   ", b.label, b.n, b.unit, human(rate), el.Round(100*time.Millisecond))
	}
	frac := min(float64(b.n)/float64(b.total), 1)
	const width = 30
	fill := int(frac * width)
	bar := strings.Repeat("█", fill) + strings.Repeat("░", width-fill)
	return fmt.Sprintf("%-22s %s %3.0f%%  %d/%d %s  %s/s  %s   ", b.label, bar, frac*100, b.n, b.total, b.unit, human(rate), el.Round(100*time.Millisecond))
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
