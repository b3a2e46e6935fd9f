package tempdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewAndRemoveStale(t *testing.T) {
	prefix := "shiplens-tempdir-test-"
	mine, err := New(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(mine)
	if !strings.Contains(filepath.Base(mine), prefix) {
		t.Fatalf("dir %s lacks the prefix", mine)
	}
	// A dir owned by a pid that cannot exist is stale; ours is not.
	dead := filepath.Join(os.TempDir(), prefix+"2147483646-x")
	if err := os.MkdirAll(dead, 0o755); err != nil {
		t.Fatal(err)
	}
	RemoveStale(prefix)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("stale dir survived: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("live dir removed: %v", err)
	}
}
