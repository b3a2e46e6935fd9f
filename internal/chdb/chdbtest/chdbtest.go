// Package chdbtest gives tests one in-process current ClickHouse (libchdb)
// shared by every test of a test binary, plus a fresh database per test.
//
// libchdb can be loaded only once per process and its engine serves one
// storage path at a time, so tests must not call chdb.Open themselves; they
// call Open or Database here. A test binary should call Main from its
// TestMain so that the shared engine is closed and its data dir removed;
// without it the data dir is left in the temp folder and removed by the next
// test binary that uses this package.
//
// When libchdb.so is missing the test is skipped, except under CI=true where
// it fails: CI must run the checks against current ClickHouse. This package
// must not download anything; `make test` runs internal/chdb/fetch.sh first.
package chdbtest

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/shiplens/shiplens/internal/chdb"
	"github.com/shiplens/shiplens/internal/tempdir"
	"github.com/shiplens/shiplens/internal/testenv"
)

// dirPrefix starts the name of every data dir this package creates; the
// owning process id follows so stale dirs can be recognised.
const dirPrefix = "shiplens-chdbtest-"

var (
	once     sync.Once
	shared   *chdb.DB
	dataDir  string
	openErr  error
	notFound bool
	mu       sync.Mutex
	closed   bool
)

// Open returns the chdb.DB shared by all tests of the calling test binary,
// opening it on first use. It skips t when libchdb.so is missing, or fails t
// under CI=true.
func Open(t testing.TB) *chdb.DB {
	t.Helper()
	once.Do(open)
	if openErr != nil {
		if notFound && !InCI() {
			t.Skipf("skipping: %v", openErr)
		}
		t.Fatalf("%v", openErr)
	}
	mu.Lock()
	defer mu.Unlock()
	if closed {
		t.Fatal("chdbtest: the shared chdb engine was already closed by Main")
	}
	return shared
}

// Database returns the shared chdb.DB and the name of a new, uniquely named
// database created for t and dropped when t ends. Queries should name their
// tables as database.table: the shared connection's current database is not
// changed.
func Database(t testing.TB) (*chdb.DB, string) {
	t.Helper()
	db := Open(t)
	name := UniqueName(t)
	if err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("cannot create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("cannot drop database %s: %v", name, err)
		}
	})
	return db, name
}

// Main runs the tests, then closes the shared engine and removes its data
// dir, and exits with the tests' exit code. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "chdbtest: %v\n", err)
	}
	os.Exit(code)
}

// InCI reports whether this is a CI run (see testenv.InCI).
func InCI() bool { return testenv.InCI() }

// UniqueName returns a unique identifier safe for ClickHouse (see testenv.UniqueName).
func UniqueName(t testing.TB) string { return testenv.UniqueName(t) }

func open() {
	lib, err := chdb.Find()
	if err != nil {
		notFound = errors.Is(err, chdb.ErrNotFound)
		openErr = fmt.Errorf("cannot run tests on current ClickHouse: %w", err)
		return
	}
	dir, err := tempdir.New(dirPrefix)
	if err != nil {
		openErr = fmt.Errorf("cannot create chdb data dir: %w", err)
		return
	}
	db, err := chdb.Open(lib, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		openErr = fmt.Errorf("cannot open chdb from %s: %w", lib, err)
		return
	}
	shared, dataDir = db, dir
}

// Close closes the shared engine and removes its data dir; Main calls it. A
// test binary that also needs another harness's TestMain calls Close itself.
func Close() error { return shutdown() }

func shutdown() error {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil || closed {
		return nil
	}
	closed = true
	if err := shared.Close(); err != nil {
		return fmt.Errorf("cannot close chdb: %w", err)
	}
	if err := os.RemoveAll(dataDir); err != nil {
		return fmt.Errorf("cannot remove chdb data dir: %w", err)
	}
	return nil
}
