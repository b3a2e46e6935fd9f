// Package tempdir makes temp dirs that name the process owning them, so a
// later process can remove the ones whose owner died without cleaning up (a
// test binary killed by its timeout, a demo killed by SIGKILL). It must not
// remove a dir whose owner may still be alive.
package tempdir

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// New removes the stale dirs of prefix, then creates <tmp>/<prefix><pid>-<random>.
func New(prefix string) (string, error) {
	RemoveStale(prefix)
	return os.MkdirTemp("", prefix+strconv.Itoa(os.Getpid())+"-")
}

// RemoveStale deletes the dirs of prefix whose owning process is gone.
func RemoveStale(prefix string) {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, m := range matches {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(m), prefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(m)
		}
	}
}
