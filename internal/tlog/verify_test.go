package tlog

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/schemas"
)

func TestVerifyEntriesAndFirstDifference(t *testing.T) {
	const n = 20
	es := entries(n, 0, "")
	l := logOf(es)
	cp := Checkpoint{Origin: "test", Size: n, Root: l.Root()}
	hashes := l.LeafHashes(n)

	if err := VerifyEntries(es, cp); err != nil {
		t.Fatal(err)
	}
	if d, found := FirstDifference(es, hashes); found {
		t.Fatalf("no change, yet %v", d)
	}
	// Entries appended after the checkpoint are fine.
	grown := append(slices.Clone(es), []byte("later"))
	if err := VerifyEntries(grown, cp); err != nil {
		t.Fatal(err)
	}
	if d, found := FirstDifference(grown, hashes); found {
		t.Fatalf("appended entry reported as %v", d)
	}

	changed := slices.Clone(es)
	changed[7] = []byte("entry 7, edited")
	deleted := slices.Delete(slices.Clone(es), 4, 6) // entries 4 and 5
	truncated := es[:15]
	swapped := slices.Clone(es)
	swapped[3], swapped[11] = swapped[11], swapped[3]
	inserted := slices.Insert(slices.Clone(es), 9, []byte("forged"))
	deletedOne := slices.Delete(slices.Clone(es), 0, 1)
	for _, c := range []struct {
		name    string
		stored  [][]byte
		want    Difference
		wantStr string
	}{
		{"changed", changed, Difference{Index: 7, Kind: Changed}, "entry 7 was changed"},
		{"deleted", deleted, Difference{Index: 4, Kind: Deleted, Count: 2}, "2 entries from index 4 were deleted"},
		{"truncated", truncated, Difference{Index: 15, Kind: Deleted, Count: 5}, "5 entries from index 15 were deleted"},
		{"swapped", swapped, Difference{Index: 3, Kind: Moved, From: 11}, "entry 3 is checkpointed entry 11 (entries were reordered)"},
		{"deleted first", deletedOne, Difference{Index: 0, Kind: Deleted, Count: 1}, "entry 0 was deleted"},
		{"inserted", inserted, Difference{Index: 9, Kind: Inserted, Count: 1}, "an entry was inserted at index 9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyEntries(c.stored, cp)
			if err == nil {
				t.Fatal("VerifyEntries accepted tampered entries")
			}
			if !strings.Contains(err.Error(), "checkpoint") {
				t.Errorf("unclear error %v", err)
			}
			d, found := FirstDifference(c.stored, hashes)
			if !found || d != c.want {
				t.Fatalf("FirstDifference = %+v, %v; want %+v", d, found, c.want)
			}
			if d.String() != c.wantStr {
				t.Errorf("String() = %q, want %q", d.String(), c.wantStr)
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	es := make([]schemas.Event, 1024)
	for i := range es {
		es[i] = testEvent(i)
	}
	l := NewLog(Origin(0), nil)
	b.ReportAllocs()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		entry, err := Entry(&es[i%len(es)])
		if err != nil {
			b.Fatal(err)
		}
		l.Append(entry)
	}
	b.ReportMetric(float64(l.Size())/time.Since(start).Seconds(), "events/s")
}

// BenchmarkInclusionProof measures the O(n) proof of the last entry of a
// log of a million entries (the documented cost).
func BenchmarkInclusionProof(b *testing.B) {
	const n = 1 << 20
	hs := make([][32]byte, n)
	for i := range hs {
		hs[i][0], hs[i][1], hs[i][2] = byte(i), byte(i>>8), byte(i>>16)
	}
	l := NewLog("test", hs)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.InclusionProof(n-1, n); err != nil {
			b.Fatal(err)
		}
	}
}
