package tlog

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func keys(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(skey + "\n") // as read from a file
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func TestCheckpointRoundTrip(t *testing.T) {
	origin := Origin(7)
	s, v := keys(t, origin)
	l := NewLog(origin, nil)
	for _, leaf := range ctLeaves {
		l.Append(unhex(t, leaf))
	}
	msg, err := l.Checkpoint(s)
	if err != nil {
		t.Fatal(err)
	}
	// The body, written out by hand: origin, size, base64 of the CT root.
	wantBody := "shiplens.events/partition/7\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
	if root, _ := base64.StdEncoding.DecodeString("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="); hex.EncodeToString(root) != ctRoots[8] {
		t.Fatalf("test literal is wrong: %x", root)
	}
	if !strings.HasPrefix(string(msg), wantBody+"\n— shiplens.events/partition/7 ") {
		t.Fatalf("checkpoint\n%s\ndoes not start with body\n%s", msg, wantBody)
	}
	cp, err := ParseCheckpoint(msg, v)
	if err != nil {
		t.Fatal(err)
	}
	want := Checkpoint{Origin: origin, Size: 8, Root: unhex(t, ctRoots[8])}
	if !cp.Equal(want) || cp.Body() != wantBody {
		t.Fatalf("parsed %+v, want %+v", cp, want)
	}
	if err := VerifyEntries(func() [][]byte {
		var es [][]byte
		for _, leaf := range ctLeaves {
			es = append(es, unhex(t, leaf))
		}
		return es
	}(), cp); err != nil {
		t.Fatal(err)
	}

	// Tampered body: size 8 -> 9.
	tampered := bytes.Replace(msg, []byte("\n8\n"), []byte("\n9\n"), 1)
	if _, err := ParseCheckpoint(tampered, v); err == nil {
		t.Error("tampered checkpoint accepted")
	}
	// Tampered signature.
	i := bytes.LastIndexByte(msg[:len(msg)-1], ' ') + 3
	sig := bytes.Clone(msg)
	sig[i] ^= 'A' ^ 'B'
	if sig[i] == msg[i] {
		sig[i] = 'C'
	}
	if _, err := ParseCheckpoint(sig, v); err == nil {
		t.Error("checkpoint with tampered signature accepted")
	}
	// Another key of the same name.
	_, v2 := keys(t, origin)
	if _, err := ParseCheckpoint(msg, v2); err == nil || !strings.Contains(err.Error(), "no signature by key") {
		t.Errorf("checkpoint accepted with another key: %v", err)
	}
	// A key for another partition cannot sign this log ...
	s8, v8 := keys(t, Origin(8))
	if _, err := l.Checkpoint(s8); err == nil {
		t.Error("log of partition 7 signed with the key of partition 8")
	}
	// ... and a note by that key with origin 7 is refused.
	forged, err := note.Sign(&note.Note{Text: wantBody}, s8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCheckpoint(forged, v8); err == nil || !strings.Contains(err.Error(), "origin") {
		t.Errorf("checkpoint with origin of partition 7 accepted by key of partition 8: %v", err)
	}
	if _, err := ParseCheckpoint(msg, nil); err == nil {
		t.Error("nil verifier accepted")
	}
	if _, err := l.Checkpoint(nil); err == nil {
		t.Error("nil signer accepted")
	}
	if _, err := LoadSigner("not a key"); err == nil {
		t.Error("bad key accepted")
	}
	if _, _, err := GenerateKey("has space"); err == nil {
		t.Error("bad key name accepted")
	}
}

func TestCheckpointEmptyLog(t *testing.T) {
	s, v := keys(t, "o")
	msg, err := NewLog("o", nil).Checkpoint(s)
	if err != nil {
		t.Fatal(err)
	}
	// base64 of SHA-256(""), the empty root.
	if !strings.HasPrefix(string(msg), "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n") {
		t.Fatalf("empty checkpoint %q", msg)
	}
	if cp, err := ParseCheckpoint(msg, v); err != nil || cp.Size != 0 {
		t.Fatalf("%+v %v", cp, err)
	}
}

func TestCheckpointBadBodies(t *testing.T) {
	s, v := keys(t, "o")
	root := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{"o\n5\n" + root + "\n", true},
		{"o\n5\n" + root + "\nextension\n", true},
		{"o\n5\n" + root + "\n\nx\n", false}, // not even a note: blank line
		{"o\n5\n", false},
		{"o\n05\n" + root + "\n", false},
		{"o\n+5\n" + root + "\n", false},
		{"o\n-1\n" + root + "\n", false},
		{"o\n18446744073709551616\n" + root + "\n", false},
		{"o\nfive\n" + root + "\n", false},
		{"o\n5\n" + root[:40] + "\n", false},
		{"o\n5\n" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)) + "\n", false},
		{"o\n5\n" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n", false},
		{"p\n5\n" + root + "\n", false}, // origin is not the key name
	} {
		msg, err := note.Sign(&note.Note{Text: c.body}, s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseCheckpoint(msg, v)
		if (err == nil) != c.ok {
			t.Errorf("body %q: error %v, want ok=%v", c.body, err, c.ok)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	s, v := keys(f, "o")
	root := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, body := range []string{"o\n5\n" + root + "\n", "o\n0\n\n", "o\n1\n" + root + "\next\n"} {
		msg, err := note.Sign(&note.Note{Text: body}, s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg)
	}
	f.Add([]byte("o\n5\n\n— o AAAA\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, err := ParseCheckpoint(msg, v)
		if err == nil && (cp.Origin != "o" || len(cp.Root) != 32) {
			t.Fatalf("accepted %q as %+v", msg, cp)
		}
		// The body parser alone, on unsigned text.
		_, _ = parseBody(string(msg))
	})
}
