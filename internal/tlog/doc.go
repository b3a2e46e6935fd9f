// Package tlog is the pure core of shiplens' verifiable event log: an
// append-only Merkle tree per Kafka partition, hashed as in RFC 9162 (RFC
// 6962, Certificate Transparency), with signed tree heads in the C2SP
// tlog-checkpoint format (https://c2sp.org/tlog-checkpoint) as Ed25519
// signed notes (golang.org/x/mod/sumdb/note). It does no I/O: storage,
// Kafka and the CLI sit on top of it.
//
// All hashing and proof algorithms are those of
// github.com/transparency-dev/merkle (packages rfc6962, compact and proof);
// this package only decides what the leaves are and where the hashes come
// from. An auditor needs nothing from shiplens but the rules below.
//
// # Entries (leaves)
//
// Entry i of a partition's log is the byte string
//
//	"shiplens-event/v1\n" || JSON
//
// with no trailing newline, where JSON is the canonical encoding of the
// event written by schemas.Event.Marshal. That encoding is Go's
// encoding/json output of one object without white space, keys in this
// fixed order, optional keys left out when absent (empty string, zero
// time, nil location or coordinate):
//
//	event_id, tracking_number, carrier, service, origin_country,
//	destination_country, status, carrier_status, description,
//	occurred_at, location {country, city, postal_code, lat, lon},
//	promised_at, merchant, locale
//
// The values are written as follows.
//
//   - status is its lower-case code ("in_transit", "customs_held", ...).
//   - occurred_at and promised_at are RFC 3339 in UTC with an upper-case
//     "Z" and the fraction of a second only when not zero, at most 9
//     digits, trailing zeros dropped (Go's time.RFC3339Nano), e.g.
//     "2026-09-03T02:00:00Z", "2026-09-03T02:00:00.5Z".
//   - Strings are UTF-8; '"' and '\' are escaped as \" and \\, and '<',
//     '>', '&', U+2028 and U+2029 as \u003c, \u003e, \u0026, \u2028 and
//     \u2029 (encoding/json's HTML-safe escaping); every other character
//     is written as itself (validation refuses control characters).
//   - location is present whenever the event has one, even with no field
//     set ("location":{}), so that decoding and encoding again is exact.
//   - lat and lon are float64 written as the shortest decimal that reads
//     back as the same float64, in plain notation for magnitudes in
//     [1e-6, 1e21) and as e.g. "1e-7" outside it (encoding/json).
//
// Entry validates the event (as schemas.Decode would, without the clock)
// so that every entry decodes with schemas.Decode and re-encodes to the
// same bytes. The version line lets a later encoding coexist: a v2 entry
// would be a different leaf, never a silently different reading of v1.
//
// The leaf hash is SHA-256(0x00 || entry) and an interior node is
// SHA-256(0x01 || left || right), the tree shape being RFC 9162 section
// 2.1.1 (the left subtree holds the largest power of two smaller than the
// size). The root of the empty tree is SHA-256 of nothing.
//
// # Logs, origins and duplicates
//
// Each Kafka partition p of the events topic has its own log, with origin
// Origin(p) = "shiplens.events/partition/<p>" (p in decimal). Entries are
// appended in partition offset order, so one log's order is Kafka's. An
// event whose event_id the log already holds is not appended again
// (Log.AppendEvent): Kafka's at-least-once delivery must not put a second
// leaf for one event into the log. The dedup is per partition, which is
// where the producer's key (the tracking number) puts all of an event's
// copies. A log restored from stored leaf hashes (NewLog) learns the
// event ids of its entries from the caller (Log.Remember).
//
// A Log keeps all leaf hashes in memory (32 bytes per event) and a compact
// range for the current root, so Append and Root cost O(log n). An
// inclusion or consistency proof for a tree of size n rehashes the stored
// leaf hashes under each proof node: O(n) hashing per proof (about n
// SHA-256 computations: about 0.35 s and 250 MB of short-lived garbage for
// a million events on one core, see BenchmarkInclusionProof), with no extra
// memory kept. That suits an auditor asking for a few proofs;
// a server answering many should cache interior nodes (a later change).
//
// # Checkpoints and keys
//
// A checkpoint's note text is exactly
//
//	<origin>\n<size in decimal>\n<base64 (std, padded) of the root>\n
//
// signed with Ed25519 as a note (c2sp.org/signed-note). The signing key's
// name must be the log's origin, so each partition has its own key, made
// with GenerateKey(Origin(p)); ParseCheckpoint accepts a checkpoint only
// when its origin line equals the verifier key's name. Extension lines
// after the root are allowed by C2SP; shiplens writes none and
// ParseCheckpoint ignores them.
//
// Private keys ("PRIVATE+KEY+<name>+<hash>+<key>") come from an
// environment variable or a file readable only by the log writer, never
// from the repository, and are loaded with LoadSigner. Verifier keys
// ("<name>+<hash>+<key>") are public and are given to auditors.
//
// # Verifying
//
// An offline verifier holding the entries recomputes leaf hashes and the
// root (VerifyEntries), checks single entries against a checkpoint with an
// inclusion proof (VerifyInclusion) and that a later checkpoint extends an
// earlier one (VerifyConsistency). A verifier that kept the leaf hashes of
// an earlier checkpoint can name the first changed, deleted, inserted or
// reordered entry with FirstDifference.
package tlog
