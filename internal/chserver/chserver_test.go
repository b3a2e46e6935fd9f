package chserver_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shiplens/shiplens/internal/chserver"
)

// requireBinary skips (or fails under CI=true) when no server is installed.
func requireBinary(t *testing.T) string {
	t.Helper()
	bin, err := chserver.FindBinary()
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	return bin
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// processGone reports whether pid no longer exists (or is only a zombie
// waiting for an init that does not reap).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// Format: pid (comm) state ...
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] == 'Z'
	}
	return false
}

// serverProcessesUsing lists live clickhouse processes whose command line
// mentions dir.
func serverProcessesUsing(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) || !bytes.Contains(cmdline, []byte("clickhouse")) {
			continue
		}
		if !processGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestStartQueryInsertStop(t *testing.T) {
	requireBinary(t)
	ctx := context.Background()
	var log syncBuffer

	began := time.Now()
	s, err := chserver.Start(ctx, chserver.Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	startTook := time.Since(began)
	defer s.Stop()
	t.Logf("started in %v at %s (http %s), dir %s", startTook, s.Addr, s.HTTPAddr, s.Dir)

	if !strings.HasPrefix(s.Addr, "127.0.0.1:") || !strings.HasPrefix(s.HTTPAddr, "127.0.0.1:") || s.Addr == s.HTTPAddr {
		t.Fatalf("addresses %q, %q: want two distinct 127.0.0.1 ports", s.Addr, s.HTTPAddr)
	}
	if v := chserver.Version(ctx, s.Addr); v == "" {
		t.Fatal("Version returned nothing")
	} else {
		t.Logf("server version %s", v)
	}

	conn, err := chserver.Connect(ctx, s.Addr, "")
	if err != nil {
		t.Fatal(err)
	}
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil || version == "" {
		t.Fatalf("SELECT version() = %q, %v", version, err)
	}
	if err := conn.Exec(ctx, "CREATE DATABASE shiplens_test"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, `CREATE TABLE shiplens_test.events (
		event_id String,
		carrier String,
		ts DateTime,
		hours Float64
	) ENGINE = MergeTree() ORDER BY (carrier, ts, event_id)`); err != nil {
		t.Fatal(err)
	}
	// 18.16 needs the explicit column list.
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO shiplens_test.events (event_id, carrier, ts, hours)")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const rows = 5000
	for i := range rows {
		carrier := []string{"dhl", "ups", "cainiao"}[i%3]
		if err := batch.Append(fmt.Sprintf("e%05d", i), carrier, base.Add(time.Duration(i)*time.Minute), float64(i%48)); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}

	rs, err := conn.Query(ctx, "SELECT carrier, count(), sum(hours), max(ts) FROM shiplens_test.events GROUP BY carrier ORDER BY carrier")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	var total uint64
	for rs.Next() {
		var (
			carrier string
			n       uint64
			sum     float64
			maxTS   time.Time
		)
		if err := rs.Scan(&carrier, &n, &sum, &maxTS); err != nil {
			t.Fatal(err)
		}
		got[carrier] = n
		total += n
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	rs.Close()
	if total != rows || got["dhl"] != 1667 || got["ups"] != 1667 || got["cainiao"] != 1666 {
		t.Fatalf("counts %v (total %d), want 5000 split 1667/1667/1666", got, total)
	}
	var first string
	if err := conn.QueryRow(ctx, "SELECT event_id FROM shiplens_test.events WHERE ts = toDateTime('2026-01-01 00:01:00', 'UTC')").Scan(&first); err != nil || first != "e00001" {
		t.Fatalf("row lookup = %q, %v; want e00001", first, err)
	}
	conn.Close()

	pid := s.Pid()
	began = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped in %v", time.Since(began))
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if !processGone(pid) {
		t.Fatalf("server pid %d still alive after Stop", pid)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("kill(%d, 0) = %v after Stop, want ESRCH", pid, err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("temp dir %s still there after Stop (stat: %v)", s.Dir, err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if !strings.Contains(log.String(), "ready at "+s.Addr) {
		t.Errorf("progress log lacks the ready line:\n%s", log.String())
	}
}

func TestGivenDirIsKeptAndReused(t *testing.T) {
	requireBinary(t)
	ctx := context.Background()
	dir := t.TempDir()

	s, err := chserver.Start(ctx, chserver.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := chserver.Connect(ctx, s.Addr, "")
	if err != nil {
		s.Stop()
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE default.kept (a UInt32) ENGINE = MergeTree() ORDER BY a",
		// Not VALUES: on 18.16 clickhouse-go's Exec of INSERT ... VALUES
		// never returns (use PrepareBatch or INSERT ... SELECT).
		"INSERT INTO default.kept (a) SELECT number + 1 FROM system.numbers LIMIT 3",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			s.Stop()
			t.Fatal(err)
		}
	}
	conn.Close()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.xml")); err != nil {
		t.Fatalf("given Dir was not kept: %v", err)
	}

	s2, err := chserver.Start(ctx, chserver.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Stop()
	conn, err = chserver.Connect(ctx, s2.Addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sum uint64
	if err := conn.QueryRow(ctx, "SELECT sum(a) FROM default.kept").Scan(&sum); err != nil || sum != 6 {
		t.Fatalf("after restart sum(a) = %d, %v; want 6", sum, err)
	}
}

func TestEarlyExitReturnsLogTail(t *testing.T) {
	requireBinary(t)
	ctx := context.Background()
	dir := t.TempDir()

	first, err := chserver.Start(ctx, chserver.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()

	// A second server on the same data dir cannot lock it and exits at once.
	began := time.Now()
	second, err := chserver.Start(ctx, chserver.Options{Dir: dir, StartTimeout: 20 * time.Second})
	if err == nil {
		second.Stop()
		t.Fatal("second server on the same dir started")
	}
	t.Logf("second Start failed after %v: %v", time.Since(began), err)
	if time.Since(began) > 15*time.Second {
		t.Errorf("early exit took %v to notice; want well under the timeout", time.Since(began))
	}
	if !strings.HasPrefix(err.Error(), "cannot start clickhouse-server: process exited") || !strings.Contains(err.Error(), "--- clickhouse-server") {
		t.Errorf("error lacks exit reason or log tail: %v", err)
	}
	if pids := serverProcessesUsing(t, dir); len(pids) != 1 || pids[0] != first.Pid() {
		t.Errorf("clickhouse processes on %s: %v, want only the first server %d", dir, pids, first.Pid())
	}
	if v := chserver.Version(ctx, first.Addr); v == "" {
		t.Error("first server stopped answering")
	}
}

func TestCancelledStartLeavesNothing(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := chserver.Start(ctx, chserver.Options{Dir: dir})
	if err == nil {
		s.Stop()
		t.Fatal("Start with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if pids := serverProcessesUsing(t, dir); len(pids) != 0 {
		t.Fatalf("clickhouse processes left on %s: %v", dir, pids)
	}
}

func TestFindBinary(t *testing.T) {
	t.Setenv(chserver.EnvBinary, filepath.Join(t.TempDir(), "clickhouse-server"))
	_, err := chserver.FindBinary()
	if !errors.Is(err, chserver.ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install clickhouse-server") {
		t.Fatalf("FindBinary with a missing override: %v; want ErrNotInstalled with install hint", err)
	}
	_, err = chserver.Start(context.Background(), chserver.Options{})
	if !errors.Is(err, chserver.ErrNotInstalled) {
		t.Fatalf("Start without a binary: %v; want ErrNotInstalled", err)
	}

	t.Setenv(chserver.EnvBinary, "")
	bin := requireBinary(t)
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("FindBinary = %s, not executable: %v", bin, err)
	}
	got, err := chserver.EnsureInstalled(context.Background(), nil)
	if err != nil || got != bin {
		t.Fatalf("EnsureInstalled with a server installed = %q, %v; want %q", got, err, bin)
	}
}

// TestParentDeathKillsServer starts a server from a child test process, kills
// that process with SIGKILL, and checks that the server dies with it.
func TestParentDeathKillsServer(t *testing.T) {
	if os.Getenv("CHSERVER_TEST_ORPHAN") == "1" {
		s, err := chserver.Start(context.Background(), chserver.Options{Dir: os.Getenv("CHSERVER_TEST_DIR")})
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		fmt.Println("PID", s.Pid())
		select {} // wait to be killed
	}
	requireBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestParentDeathKillsServer$")
	cmd.Env = append(os.Environ(), "CHSERVER_TEST_ORPHAN=1", "CHSERVER_TEST_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	pid := 0
	for pid == 0 && sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERROR") {
			t.Fatal(line)
		}
		if rest, ok := strings.CutPrefix(line, "PID "); ok {
			pid, _ = strconv.Atoi(rest)
		}
	}
	if pid == 0 {
		t.Fatalf("child printed no server pid (scan: %v)", sc.Err())
	}
	if processGone(pid) {
		t.Fatalf("server %d not running before the parent was killed", pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	killed := time.Now()
	defer func() { t.Logf("server %d gone %v after its parent was killed", pid, time.Since(killed)) }()
	// The kernel delivers the parent-death SIGKILL asynchronously; poll.
	deadline := time.Now().Add(10 * time.Second)
	for delay := time.Millisecond; !processGone(pid); delay = min(2*delay, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("server %d survived its parent's death", pid)
		}
		time.Sleep(delay)
	}
}
