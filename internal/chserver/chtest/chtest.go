// Package chtest gives the tests of one test binary a shared private
// ClickHouse server (started lazily by chserver on first use) and a fresh
// database per test, so tests run against the real ClickHouse and never a
// mock.
//
// A test binary should call Main from its TestMain: it stops the shared
// server and removes its temp dir after the tests. Without Main the server
// still dies with the test process (parent-death signal) and its temp dir is
// removed by the next chserver.Start. Set SHIPLENS_TEST_CLICKHOUSE to a
// native-protocol address (host:port) to use an existing server instead.
//
// When no ClickHouse server binary is installed the test is skipped with a
// message saying how to install one, except under CI=true, where it fails:
// CI must run these tests. This package must not install anything itself and
// must not be imported by non-test code.
package chtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/shiplens/shiplens/internal/chserver"
	"github.com/shiplens/shiplens/internal/testenv"
)

// EnvAddr names the environment variable holding the native-protocol address
// of an existing ClickHouse server to test against instead of starting one.
const EnvAddr = "SHIPLENS_TEST_CLICKHOUSE"

// opTimeout bounds the setup and cleanup statements chtest runs itself.
const opTimeout = 30 * time.Second

var (
	once         sync.Once
	mu           sync.Mutex
	srv          *chserver.Server
	startErr     error
	notInstalled bool
	stopped      bool
)

// Server returns the native-protocol address of the ClickHouse server shared
// by all tests of the calling test binary, starting it on first use. If
// SHIPLENS_TEST_CLICKHOUSE is set, it returns that address instead. It skips
// t when no server binary is installed, or fails t under CI=true.
func Server(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		return addr
	}
	once.Do(start)
	if startErr != nil {
		if notInstalled && !InCI() {
			t.Skipf("skipping: %v", startErr)
		}
		t.Fatalf("%v", startErr)
	}
	mu.Lock()
	defer mu.Unlock()
	if stopped {
		t.Fatal("chtest: the shared ClickHouse server was already stopped by Main")
	}
	return srv.Addr
}

// DB creates a fresh, uniquely named database on the shared server for t,
// dropped when t ends, and returns the server address and the database name.
func DB(t testing.TB) (addr string, database string) {
	t.Helper()
	addr = Server(t)
	database = UniqueName(t)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	conn, err := chserver.Connect(ctx, addr, "")
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE "+database); err != nil {
		t.Fatalf("cannot create database %s: %v", database, err)
	}
	// Dropping is housekeeping: the server and its data go when the test
	// binary ends, so a drop that times out on a loaded machine is logged,
	// not a failure of the test that used the database.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		conn, err := chserver.Connect(ctx, addr, "")
		if err != nil {
			t.Logf("cannot drop database %s (left until the server stops): %v", database, err)
			return
		}
		defer conn.Close()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+database); err != nil {
			t.Logf("cannot drop database %s (left until the server stops): %v", database, err)
		}
	})
	return addr, database
}

// Conn is DB plus an open clickhouse-go connection whose default database is
// the new one; the connection is closed when t ends, before the database is
// dropped.
func Conn(t testing.TB) (driver.Conn, string) {
	t.Helper()
	addr, database := DB(t)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	conn, err := chserver.Connect(ctx, addr, database)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, database
}

// Main runs the tests, stops the shared server (if one was started), and
// exits with the tests' exit code. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "chtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Stop stops the shared server if one was started. Main calls it; later calls
// to Server fail.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	if stopped || srv == nil {
		stopped = true
		return nil
	}
	stopped = true
	return srv.Stop()
}

// InCI reports whether this is a CI run (see testenv.InCI).
func InCI() bool { return testenv.InCI() }

// UniqueName returns a unique identifier safe for ClickHouse (see testenv.UniqueName).
func UniqueName(t testing.TB) string { return testenv.UniqueName(t) }

func start() {
	if _, err := chserver.FindBinary(); err != nil {
		notInstalled = errors.Is(err, chserver.ErrNotInstalled)
		startErr = fmt.Errorf("cannot run tests on ClickHouse: %w", err)
		return
	}
	s, err := chserver.Start(context.Background(), chserver.Options{})
	if err != nil {
		startErr = fmt.Errorf("cannot run tests on ClickHouse: %w", err)
		return
	}
	mu.Lock()
	srv = s
	mu.Unlock()
}
