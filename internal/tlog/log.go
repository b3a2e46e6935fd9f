package tlog

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"

	"github.com/shiplens/shiplens/schemas"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// hasher is the RFC 6962 SHA-256 hasher every tree of this package uses.
var hasher = rfc6962.DefaultHasher

// rf makes the compact ranges; one factory, as compact requires for merging.
var rf = &compact.RangeFactory{Hash: hasher.HashChildren}

// Origin returns the origin (and signing key name) of the log of Kafka
// partition p of the events topic: "shiplens.events/partition/<p>".
func Origin(partition int) string {
	return "shiplens.events/partition/" + strconv.Itoa(partition)
}

// HashLeaf returns the RFC 6962 leaf hash of entry, SHA-256(0x00 || entry).
func HashLeaf(entry []byte) [32]byte {
	return [32]byte(hasher.HashLeaf(entry))
}

// A Log is the in-memory Merkle tree of one partition's entries. It is
// safe for concurrent use.
type Log struct {
	origin string

	mu     sync.RWMutex
	leaves [][32]byte        // leaf hashes, by index
	rng    *compact.Range    // compact range over all leaves, for Root
	ids    map[string]uint64 // event_id -> index, for AppendEvent
}

// NewLog returns a log with the given origin holding leafHashes, as kept in
// storage, in order. The event ids of restored entries are not known from
// their hashes: call Remember for each before AppendEvent, or duplicates of
// restored events would be appended again.
func NewLog(origin string, leafHashes [][32]byte) *Log {
	l := &Log{
		origin: origin,
		leaves: make([][32]byte, 0, len(leafHashes)),
		rng:    rf.NewEmptyRange(0),
		ids:    make(map[string]uint64),
	}
	for _, h := range leafHashes {
		l.appendHash(h)
	}
	return l
}

// Origin returns the log's origin.
func (l *Log) Origin() string { return l.origin }

// appendHash adds leaf hash h; l.mu is held or l is not shared yet.
func (l *Log) appendHash(h [32]byte) uint64 {
	i := uint64(len(l.leaves))
	l.leaves = append(l.leaves, h)
	hc := h // the range keeps the slice: give it its own array
	// Append fails only for a range not starting at 0, which rng never is.
	if err := l.rng.Append(hc[:], nil); err != nil {
		panic("tlog: compact range: " + err.Error())
	}
	return i
}

// Append adds entry and returns its index. It does not look at the entry's
// contents; see AppendEvent for the dedup of events.
func (l *Log) Append(entry []byte) (index uint64) {
	h := HashLeaf(entry)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appendHash(h)
}

// AppendEvent appends the entry of e unless the log already holds an event
// with e's event_id, in which case it returns that event's index and
// added=false. Only the event_id counts: a second event with the same id
// but other fields is dropped too (the first one delivered wins).
func (l *Log) AppendEvent(e *schemas.Event) (index uint64, added bool, err error) {
	entry, err := Entry(e)
	if err != nil {
		return 0, false, err
	}
	h := HashLeaf(entry)
	l.mu.Lock()
	defer l.mu.Unlock()
	if i, ok := l.ids[e.EventID]; ok {
		return i, false, nil
	}
	i := l.appendHash(h)
	l.ids[e.EventID] = i
	return i, true, nil
}

// Remember records that the entry at index holds the event eventID, for
// AppendEvent's dedup after NewLog restored the log from storage.
func (l *Log) Remember(eventID string, index uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if index >= uint64(len(l.leaves)) {
		return fmt.Errorf("cannot remember event %q at index %d: the log has %d entries", eventID, index, len(l.leaves))
	}
	l.ids[eventID] = index
	return nil
}

// Size returns the number of entries.
func (l *Log) Size() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return uint64(len(l.leaves))
}

// Root returns the root hash of the whole log (SHA-256 of nothing when
// empty).
func (l *Log) Root() []byte {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.root()
}

func (l *Log) root() []byte {
	r, err := l.rng.GetRootHash(nil)
	if err != nil { // only for a range not starting at 0
		panic("tlog: compact range: " + err.Error())
	}
	if r == nil {
		return hasher.EmptyRoot()
	}
	return bytes.Clone(r) // it may be the range's own hash
}

// LeafHash returns the leaf hash of entry i.
func (l *Log) LeafHash(i uint64) ([32]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if i >= uint64(len(l.leaves)) {
		return [32]byte{}, fmt.Errorf("cannot get leaf hash %d: the log has %d entries", i, len(l.leaves))
	}
	return l.leaves[i], nil
}

// LeafHashes returns a copy of the first n leaf hashes (all when n exceeds
// the size), e.g. to store them or to keep them with a checkpoint.
func (l *Log) LeafHashes(n uint64) [][32]byte {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n = min(n, uint64(len(l.leaves)))
	return append([][32]byte(nil), l.leaves[:n]...)
}

// RootAt returns the root hash of the first size entries.
func (l *Log) RootAt(size uint64) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if size > uint64(len(l.leaves)) {
		return nil, fmt.Errorf("cannot compute root of size %d: the log has %d entries", size, len(l.leaves))
	}
	if size == uint64(len(l.leaves)) {
		return l.root(), nil
	}
	return rootOf(l.leaves[:size]), nil
}

// InclusionProof returns the RFC 9162 inclusion proof of entry index in the
// tree of the first size entries. It costs O(size) hashing.
func (l *Log) InclusionProof(index, size uint64) ([][]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if size > uint64(len(l.leaves)) {
		return nil, fmt.Errorf("cannot make inclusion proof for tree size %d: the log has %d entries", size, len(l.leaves))
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("cannot make inclusion proof: %w", err)
	}
	return l.rehash(nodes)
}

// ConsistencyProof returns the RFC 9162 consistency proof between the
// trees of the first size1 and size2 entries. It costs O(size2) hashing.
func (l *Log) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if size2 > uint64(len(l.leaves)) {
		return nil, fmt.Errorf("cannot make consistency proof for tree size %d: the log has %d entries", size2, len(l.leaves))
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("cannot make consistency proof: %w", err)
	}
	return l.rehash(nodes)
}

// rehash fetches the hashes of nodes' IDs and turns them into the proof.
// The IDs are perfect subtrees over disjoint leaf spans, so the whole costs
// at most one hash per leaf of the tree. l.mu is held.
func (l *Log) rehash(nodes proof.Nodes) ([][]byte, error) {
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h, err := l.nodeHash(id)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	p, err := nodes.Rehash(hashes, hasher.HashChildren)
	if err != nil {
		return nil, fmt.Errorf("cannot assemble proof: %w", err)
	}
	return p, nil
}

// nodeHash returns the hash of the perfect subtree id from the leaf hashes
// under it, by a compact range over exactly that span.
func (l *Log) nodeHash(id compact.NodeID) ([]byte, error) {
	begin, end := id.Coverage()
	if end > uint64(len(l.leaves)) || begin >= end {
		return nil, fmt.Errorf("cannot compute node %+v: it covers leaves [%d, %d) of %d", id, begin, end, len(l.leaves))
	}
	r := rf.NewEmptyRange(begin)
	for i := begin; i < end; i++ {
		// The range only reads the hashes it is given, and r dies here.
		if err := r.Append(l.leaves[i][:], nil); err != nil {
			return nil, fmt.Errorf("cannot compute node %+v: %w", id, err)
		}
	}
	if hs := r.Hashes(); len(hs) == 1 {
		return bytes.Clone(hs[0]), nil // a leaf's hash is l.leaves' memory
	}
	return nil, fmt.Errorf("cannot compute node %+v: leaves [%d, %d) are no perfect subtree", id, begin, end)
}

// rootOf returns the RFC 9162 root of the given leaf hashes.
func rootOf(leaves [][32]byte) []byte {
	r := rf.NewEmptyRange(0)
	for i := range leaves {
		_ = r.Append(leaves[i][:], nil) // cannot fail on a range from 0
	}
	root, _ := r.GetRootHash(nil)
	if root == nil {
		return hasher.EmptyRoot()
	}
	return bytes.Clone(root) // a one-leaf root is the caller's memory
}
