package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestBarOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "working", 100, "items")
	for i := 0; i < 100; i++ {
		b.Add(1)
	}
	b.Finish()
	b.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want one per quarter (4):\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[3], "100%") || !strings.Contains(lines[3], "100/100 items") {
		t.Fatalf("last line %q", lines[3])
	}
	if strings.Contains(buf.String(), "\r") {
		t.Fatal("carriage returns written to a non-terminal")
	}
}

func TestBarUnknownTotal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "counting", 0, "events")
	b.Add(5)
	b.Add(7)
	if buf.Len() != 0 {
		t.Fatalf("wrote %q before Finish", buf.String())
	}
	b.Finish()
	if !strings.Contains(buf.String(), "12 events") {
		t.Fatalf("final line %q", buf.String())
	}
}
