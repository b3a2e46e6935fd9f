package tlog

import (
	"bytes"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
)

// VerifyInclusion checks that entry is entry index of the tree of the given
// size and root, by the RFC 9162 inclusion proof p.
func VerifyInclusion(entry []byte, index, size uint64, p [][]byte, root []byte) error {
	leaf := hasher.HashLeaf(entry)
	if err := proof.VerifyInclusion(hasher, index, size, leaf, p, root); err != nil {
		return fmt.Errorf("cannot verify inclusion of entry %d in the tree of size %d: %w", index, size, err)
	}
	return nil
}

// VerifyConsistency checks that the tree of size2 with root2 extends the
// tree of size1 with root1, by the RFC 9162 consistency proof p. Any tree
// extends the empty one (size1 = 0).
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	if err := proof.VerifyConsistency(hasher, size1, size2, p, root1, root2); err != nil {
		return fmt.Errorf("cannot verify that the tree of size %d extends the tree of size %d: %w", size2, size1, err)
	}
	return nil
}

// VerifyEntries checks that the first cp.Size of entries give the root of
// cp. Entries past cp.Size, appended after the checkpoint, are not looked
// at. To find which entry is wrong, keep the leaf hashes of the checkpoint
// and use FirstDifference.
func VerifyEntries(entries [][]byte, cp Checkpoint) error {
	if uint64(len(entries)) < cp.Size {
		return fmt.Errorf("cannot verify %d entries against checkpoint %s of size %d: entries are missing", len(entries), cp.Origin, cp.Size)
	}
	leaves := make([][32]byte, cp.Size)
	for i := range leaves {
		leaves[i] = HashLeaf(entries[i])
	}
	if root := rootOf(leaves); !bytes.Equal(root, cp.Root) {
		return fmt.Errorf("entries do not match checkpoint %s: the %d entries give root %x, the checkpoint says %x", cp.Origin, cp.Size, root, cp.Root)
	}
	return nil
}

// DiffKind says how stored entries differ from checkpointed leaf hashes.
type DiffKind int

// The kinds of Difference.
const (
	// Changed: the entry at Index is not the checkpointed one and the
	// checkpointed one is nowhere else either.
	Changed DiffKind = iota + 1
	// Deleted: the checkpointed entries Index .. Index+Count-1 are gone;
	// the entries after them follow (or the stored entries end at Index).
	Deleted
	// Inserted: Count entries unknown to the checkpoint stand at Index,
	// before the checkpointed entry Index.
	Inserted
	// Moved: the entry at Index is checkpointed entry From (reordered).
	Moved
)

func (k DiffKind) String() string {
	switch k {
	case Changed:
		return "changed"
	case Deleted:
		return "deleted"
	case Inserted:
		return "inserted"
	case Moved:
		return "moved"
	}
	return fmt.Sprintf("DiffKind(%d)", int(k))
}

// A Difference is the first place where stored entries depart from the
// leaf hashes of a checkpoint.
type Difference struct {
	Index int      // first index at which they differ
	Kind  DiffKind // the best explanation of the difference at Index
	Count int      // for Deleted and Inserted, how many entries
	From  int      // for Moved, the checkpointed index of the entry at Index
}

// String says what differs, e.g. "entry 5 was changed".
func (d Difference) String() string {
	switch d.Kind {
	case Deleted:
		if d.Count == 1 {
			return fmt.Sprintf("entry %d was deleted", d.Index)
		}
		return fmt.Sprintf("%d entries from index %d were deleted", d.Count, d.Index)
	case Inserted:
		if d.Count == 1 {
			return fmt.Sprintf("an entry was inserted at index %d", d.Index)
		}
		return fmt.Sprintf("%d entries were inserted at index %d", d.Count, d.Index)
	case Moved:
		return fmt.Sprintf("entry %d is checkpointed entry %d (entries were reordered)", d.Index, d.From)
	}
	return fmt.Sprintf("entry %d was %s", d.Index, d.Kind)
}

// FirstDifference compares stored entries, as read back from storage, with
// leafHashes, the leaf hashes kept with a checkpoint (Log.LeafHashes), and
// returns the first difference and true, or false when the first
// len(leafHashes) stored entries are exactly the checkpointed ones. Stored
// entries beyond len(leafHashes) (appended since) are not a difference.
//
// Only the first difference is explained: after it, the later ones may be
// consequences (a deletion shifts every later index). The explanation
// looks ahead in both lists: an entry found later in the checkpoint means
// a deletion (when the checkpointed entry at Index is gone) or a move; a
// checkpointed entry found later in storage means an insertion; otherwise
// the entry was changed. It costs O(n) time and memory.
func FirstDifference(stored [][]byte, leafHashes [][32]byte) (Difference, bool) {
	got := make([][32]byte, len(stored))
	for i, e := range stored {
		got[i] = HashLeaf(e)
	}
	i := 0
	for i < len(leafHashes) && i < len(got) && got[i] == leafHashes[i] {
		i++
	}
	if i == len(leafHashes) {
		return Difference{}, false
	}
	if i == len(got) {
		return Difference{Index: i, Kind: Deleted, Count: len(leafHashes) - i}, true
	}
	// where finds h in hs[from:], or -1.
	where := func(hs [][32]byte, from int, h [32]byte) int {
		for k := from; k < len(hs); k++ {
			if hs[k] == h {
				return k
			}
		}
		return -1
	}
	j := where(leafHashes, i+1, got[i]) // stored i in the checkpoint
	k := where(got, i+1, leafHashes[i]) // checkpointed i in storage
	switch {
	case j >= 0 && k < 0:
		return Difference{Index: i, Kind: Deleted, Count: j - i}, true
	case j >= 0:
		return Difference{Index: i, Kind: Moved, From: j}, true
	case k >= 0:
		return Difference{Index: i, Kind: Inserted, Count: k - i}, true
	}
	return Difference{Index: i, Kind: Changed}, true
}
