package tlog

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The RFC 6962 test tree of Certificate Transparency, as in
// github.com/transparency-dev/merkle@v0.0.2/testonly/constants.go
// (LeafInputs, RootHashes, NodeHashes), copied here as literals.
var (
	ctLeaves = []string{"", "00", "10", "2021", "3031", "40414243",
		"5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	// ctRoots[n] is the root of the first n leaves.
	ctRoots = []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	// Leaf hashes 1 and 7 (NodeHashes()[0]).
	ctLeaf1 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
	ctLeaf7 = "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"
)

func TestRFC6962Vectors(t *testing.T) {
	l := NewLog("test", nil)
	if got := hex.EncodeToString(l.Root()); got != ctRoots[0] {
		t.Fatalf("empty root %s, want %s", got, ctRoots[0])
	}
	for n, leaf := range ctLeaves {
		if i := l.Append(unhex(t, leaf)); i != uint64(n) {
			t.Fatalf("Append gave index %d, want %d", i, n)
		}
		if got := hex.EncodeToString(l.Root()); got != ctRoots[n+1] {
			t.Errorf("root of %d leaves %s, want %s", n+1, got, ctRoots[n+1])
		}
	}
	for _, c := range []struct {
		i    uint64
		want string
	}{{1, ctLeaf1}, {7, ctLeaf7}} {
		h, err := l.LeafHash(c.i)
		if err != nil || hex.EncodeToString(h[:]) != c.want {
			t.Errorf("leaf hash %d = %x, %v; want %s", c.i, h, err, c.want)
		}
	}
	for n := range ctRoots {
		r, err := l.RootAt(uint64(n))
		if err != nil || hex.EncodeToString(r) != ctRoots[n] {
			t.Errorf("RootAt(%d) = %x, %v; want %s", n, r, err, ctRoots[n])
		}
	}
	// The RFC 6962 inclusion proof of leaf 0 in the 8-leaf tree is the
	// hashes of leaf 1, of leaves 2-3 and of leaves 4-7 (NodeHashes).
	p, err := l.InclusionProof(0, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ctLeaf1,
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}
	if len(p) != len(want) {
		t.Fatalf("proof has %d hashes, want %d", len(p), len(want))
	}
	for i := range p {
		if hex.EncodeToString(p[i]) != want[i] {
			t.Errorf("proof[%d] = %x, want %s", i, p[i], want[i])
		}
	}
	if _, err := l.LeafHash(8); err == nil {
		t.Error("LeafHash beyond the size did not fail")
	}
}

// entries returns n distinct entries; a non-zero salt changes entry k.
func entries(n int, k int, salt string) [][]byte {
	es := make([][]byte, n)
	for i := range es {
		es[i] = fmt.Appendf(nil, "entry %d", i)
		if salt != "" && i == k {
			es[i] = append(es[i], salt...)
		}
	}
	return es
}

func logOf(es [][]byte) *Log {
	l := NewLog("test", nil)
	for _, e := range es {
		l.Append(e)
	}
	return l
}

func TestInclusionProofs(t *testing.T) {
	es := entries(70, 0, "")
	l := logOf(es)
	for size := uint64(1); size <= 70; size++ {
		root, err := l.RootAt(size)
		if err != nil {
			t.Fatal(err)
		}
		if want := logOf(es[:size]).Root(); !bytes.Equal(root, want) {
			t.Fatalf("RootAt(%d) is not the root of a log of %d entries", size, size)
		}
		for i := uint64(0); i < size; i++ {
			p, err := l.InclusionProof(i, size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", i, size, err)
			}
			leaf := rfc6962.DefaultHasher.HashLeaf(es[i])
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, size, leaf, p, root); err != nil {
				t.Fatalf("proof of %d in %d does not verify: %v", i, size, err)
			}
			if err := VerifyInclusion(es[i], i, size, p, root); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d): %v", i, size, err)
			}
			if VerifyInclusion(append([]byte("x"), es[i]...), i, size, p, root) == nil {
				t.Fatalf("modified entry %d verified in %d", i, size)
			}
			if size > 1 && VerifyInclusion(es[i], (i+1)%size, size, p, root) == nil {
				t.Fatalf("entry %d verified at index %d in %d", i, (i+1)%size, size)
			}
			bad := bytes.Clone(root)
			bad[0] ^= 1
			if VerifyInclusion(es[i], i, size, p, bad) == nil {
				t.Fatalf("entry %d verified in %d against a wrong root", i, size)
			}
		}
	}
	if _, err := l.InclusionProof(70, 70); err == nil {
		t.Error("proof of index 70 in size 70 made")
	}
	if _, err := l.InclusionProof(0, 71); err == nil {
		t.Error("proof for size 71 of a 70-entry log made")
	}
}

func TestConsistencyProofs(t *testing.T) {
	const n = 40
	es := entries(n, 0, "")
	l := logOf(es)
	roots := make([][]byte, n+1)
	for s := range roots {
		roots[s] = logOf(es[:s]).Root()
	}
	// other has entry 3 rewritten: no tree of it beyond 3 extends l's.
	other := logOf(entries(n, 3, "rewritten"))
	for s1 := uint64(0); s1 <= n; s1++ {
		for s2 := s1; s2 <= n; s2++ {
			p, err := l.ConsistencyProof(s1, s2)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", s1, s2, err)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, s1, s2, p, roots[s1], roots[s2]); err != nil {
				t.Fatalf("proof %d -> %d does not verify: %v", s1, s2, err)
			}
			if err := VerifyConsistency(s1, s2, p, roots[s1], roots[s2]); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d): %v", s1, s2, err)
			}
			if s1 <= 3 || s1 == s2 {
				continue
			}
			// The rewriter's proof and root, against the old root.
			p2, err := other.ConsistencyProof(s1, s2)
			if err != nil {
				t.Fatal(err)
			}
			root2, _ := other.RootAt(s2)
			if VerifyConsistency(s1, s2, p2, roots[s1], root2) == nil {
				t.Fatalf("rewritten log's tree %d verified as extending the tree %d", s2, s1)
			}
			if VerifyConsistency(s1, s2, p, roots[s1], root2) == nil {
				t.Fatalf("rewritten log's root %d verified with the true proof from %d", s2, s1)
			}
		}
	}
	if _, err := l.ConsistencyProof(5, 4); err == nil {
		t.Error("proof from 5 to 4 made")
	}
	if _, err := l.ConsistencyProof(5, n+1); err == nil {
		t.Error("proof to a size beyond the log made")
	}
}

func TestNewLogRestores(t *testing.T) {
	es := entries(37, 0, "")
	l := logOf(es)
	r := NewLog("test", l.LeafHashes(100))
	if r.Size() != 37 || !bytes.Equal(r.Root(), l.Root()) {
		t.Fatalf("restored log has size %d root %x, want 37 %x", r.Size(), r.Root(), l.Root())
	}
	// The returned root is a copy: changing it does not change the log.
	one := logOf(es[:1])
	root := one.Root()
	root[0] ^= 1
	if bytes.Equal(one.Root(), root) {
		t.Fatal("Root returned the log's own memory")
	}
}

func TestAppendEventDedup(t *testing.T) {
	l := NewLog(Origin(3), nil)
	e := testEvent(1)
	i, added, err := l.AppendEvent(&e)
	if err != nil || !added || i != 0 {
		t.Fatalf("first append: %d %v %v", i, added, err)
	}
	e2 := testEvent(2)
	if i, added, err := l.AppendEvent(&e2); err != nil || !added || i != 1 {
		t.Fatalf("second event: %d %v %v", i, added, err)
	}
	root := l.Root()
	again := testEvent(1)
	again.Description = "redelivered, altered"
	if i, added, err := l.AppendEvent(&again); err != nil || added || i != 0 {
		t.Fatalf("duplicate: %d %v %v, want index 0 not added", i, added, err)
	}
	if l.Size() != 2 || !bytes.Equal(l.Root(), root) {
		t.Fatalf("duplicate changed the log: size %d", l.Size())
	}
	bad := testEvent(3)
	bad.Carrier = ""
	if _, _, err := l.AppendEvent(&bad); err == nil || l.Size() != 2 {
		t.Fatalf("invalid event: %v, size %d", err, l.Size())
	}
	// A restored log dedups once told the ids.
	r := NewLog(Origin(3), l.LeafHashes(2))
	if err := r.Remember("e1", 0); err != nil {
		t.Fatal(err)
	}
	if err := r.Remember("e9", 2); err == nil {
		t.Error("Remember beyond the size accepted")
	}
	if _, added, _ := r.AppendEvent(&e); added {
		t.Error("restored log appended a remembered event again")
	}
	if Origin(3) != "shiplens.events/partition/3" {
		t.Errorf("Origin(3) = %q", Origin(3))
	}
}

func TestConcurrentUse(t *testing.T) {
	l := NewLog("test", nil)
	done := make(chan bool)
	go func() {
		for i := range 200 {
			l.Append(fmt.Appendf(nil, "e%d", i))
		}
		close(done)
	}()
	for {
		select {
		case <-done:
			if l.Size() != 200 {
				t.Fatalf("size %d", l.Size())
			}
			return
		default:
			if s := l.Size(); s > 0 {
				if _, err := l.InclusionProof(s-1, s); err != nil {
					t.Fatal(err)
				}
			}
			_ = l.Root()
		}
	}
}
