// Package testenv holds the small facts about the test environment that the
// test harnesses share: whether this is CI, and names that are safe and
// unique on a shared server. Only test code and test harnesses import it.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
)

// InCI reports whether the CI environment variable says this is a CI run,
// where a missing component fails a test instead of skipping it.
func InCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// UniqueName returns an identifier safe for ClickHouse (databases, tables),
// derived from t's name and made unique with random bytes, so several test
// processes can share one server.
func UniqueName(t testing.TB) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(rnd[:]))
	return b.String()
}
