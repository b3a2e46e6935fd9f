package tlog

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// A Checkpoint is a log's signed tree head: its origin, its size and the
// root hash of its first Size entries.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// Body returns the checkpoint's note text,
// "<origin>\n<size>\n<base64 root>\n".
func (c Checkpoint) Body() string {
	return c.Origin + "\n" + strconv.FormatUint(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root) + "\n"
}

// Checkpoint returns the log's current checkpoint as a note signed by s,
// whose key name must be the log's origin.
func (l *Log) Checkpoint(s note.Signer) ([]byte, error) {
	if s == nil {
		return nil, errors.New("cannot sign checkpoint: no signer")
	}
	if s.Name() != l.origin {
		return nil, fmt.Errorf("cannot sign checkpoint of %q with key %q: the key name must be the origin", l.origin, s.Name())
	}
	if l.origin == "" || strings.ContainsAny(l.origin, "\n") {
		return nil, fmt.Errorf("cannot sign checkpoint: bad origin %q", l.origin)
	}
	l.mu.RLock()
	c := Checkpoint{Origin: l.origin, Size: uint64(len(l.leaves)), Root: l.root()}
	l.mu.RUnlock()
	msg, err := note.Sign(&note.Note{Text: c.Body()}, s)
	if err != nil {
		return nil, fmt.Errorf("cannot sign checkpoint of %q: %w", l.origin, err)
	}
	return msg, nil
}

// ParseCheckpoint checks that msg is a checkpoint note signed by v and
// returns it. The origin line must equal v's key name. Lines after the
// root hash (C2SP extension lines) must not be empty and are ignored;
// other signatures than v's are ignored too.
func ParseCheckpoint(msg []byte, v note.Verifier) (Checkpoint, error) {
	if v == nil {
		return Checkpoint{}, errors.New("cannot verify checkpoint: no verifier")
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return Checkpoint{}, fmt.Errorf("cannot verify checkpoint: it has no signature by key %s+%08x", v.Name(), v.KeyHash())
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("cannot verify checkpoint: the signature by key %s+%08x is wrong (tampered text or signature)", v.Name(), v.KeyHash())
		}
		return Checkpoint{}, fmt.Errorf("cannot verify checkpoint: %w", err)
	}
	c, err := parseBody(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("cannot accept checkpoint: its origin %q is not the key's name %q", c.Origin, v.Name())
	}
	return c, nil
}

// parseBody parses the note text of a checkpoint.
func parseBody(text string) (Checkpoint, error) {
	body, ok := strings.CutSuffix(text, "\n")
	if !ok {
		return Checkpoint{}, errors.New("cannot parse checkpoint: the text does not end in a newline")
	}
	lines := strings.Split(body, "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("cannot parse checkpoint: %d lines, want origin, size and root hash", len(lines))
	}
	for i, line := range lines {
		if line == "" {
			return Checkpoint{}, fmt.Errorf("cannot parse checkpoint: line %d is empty", i+1)
		}
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || (len(lines[1]) > 1 && lines[1][0] == '0') {
		return Checkpoint{}, fmt.Errorf("cannot parse checkpoint: size %q is no decimal number without leading zeros", lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != hasher.Size() {
		return Checkpoint{}, fmt.Errorf("cannot parse checkpoint: root hash %q is not %d bytes in standard base64", lines[2], hasher.Size())
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: root}, nil
}

// Equal reports whether c and d are the same tree head.
func (c Checkpoint) Equal(d Checkpoint) bool {
	return c.Origin == d.Origin && c.Size == d.Size && bytes.Equal(c.Root, d.Root)
}

// LoadSigner returns the signer of a note private key,
// "PRIVATE+KEY+<name>+<hash>+<key>", as read from an environment variable
// or a file (surrounding white space is dropped). Keys never live in the
// repository.
func LoadSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		// The error text of note does not contain the key; keep it that way.
		return nil, fmt.Errorf("cannot load signing key: %w", err)
	}
	return s, nil
}

// LoadVerifier returns the verifier of a note public key,
// "<name>+<hash>+<key>".
func LoadVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("cannot load verifier key: %w", err)
	}
	return v, nil
}

// GenerateKey makes a new Ed25519 note key pair named name (a log's origin,
// see Origin) and returns the private key skey, to keep secret, and the
// verifier key vkey, to publish.
func GenerateKey(name string) (skey, vkey string, err error) {
	// note.GenerateKey makes keys of any name, but only these can sign.
	if name == "" || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsSpace) >= 0 || strings.Contains(name, "+") {
		return "", "", fmt.Errorf("cannot generate key %q: a key name must be non-empty UTF-8 without spaces or '+'", name)
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("cannot generate key %q: %w", name, err)
	}
	return skey, vkey, nil
}
