// Package chserver starts and stops a private ClickHouse server as a child
// process: on free ports on 127.0.0.1, with its own minimal config, data and
// logs in one folder. Tests (through chtest), `shiplens demo` and `make test`
// use it to run against the real ClickHouse from Debian's packages (18.16)
// without touching the system's own server, its ports or /var/lib/clickhouse.
//
// Notes on ClickHouse 18.16 with clickhouse-go v2 (native protocol only; its
// HTTP protocol fails on 18.16): PrepareBatch needs an explicit column list
// ("INSERT INTO t (a, b)"), and Exec of "INSERT ... VALUES (...)" never
// returns (the client waits for a packet the server never sends), so insert
// with PrepareBatch or INSERT ... SELECT. The config sets the server time zone
// to UTC.
//
// The server runs in its own process group and is asked to die with its
// parent (Linux parent-death signal), so Stop, or the parent's exit, never
// leaves a clickhouse-server behind. This package must not manage a
// production ClickHouse, must not write outside the folder it is given (or
// the temp folder it creates), and must not install anything except through
// EnsureInstalled, which callers invoke explicitly.
package chserver

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/internal/spawn"
	"github.com/shiplens/shiplens/internal/tempdir"
)

// EnvBinary names the environment variable that, when set, gives the path of
// the clickhouse-server (or single "clickhouse") binary to run.
const EnvBinary = "SHIPLENS_CLICKHOUSE_SERVER"

// SystemUsersConfig is the users file of Debian's clickhouse-server package,
// used when present: its default user has no password and every database.
const SystemUsersConfig = "/etc/clickhouse-server/users.xml"

// InstallHint tells a user how to get a ClickHouse server binary.
const InstallHint = "install it with `apt-get install clickhouse-server` (Debian/Ubuntu; `make test` does this when run as root), or set " + EnvBinary + " to the path of a clickhouse-server binary"

// ErrNotInstalled is returned (wrapped) when no ClickHouse server binary is found.
var ErrNotInstalled = errors.New("clickhouse-server not found")

// DefaultStartTimeout is how long Start waits for the server to answer when
// Options.StartTimeout is zero.
const DefaultStartTimeout = 30 * time.Second

const (
	stopTimeout   = 10 * time.Second
	startAttempts = 3 // retries with fresh ports when a port was taken meanwhile
	tempDirPrefix = "shiplens-clickhouse-"
)

// Options configures a private server. Zero values get defaults.
type Options struct {
	// Dir holds config, data and logs. Empty means a new temp dir that Stop
	// removes; a given Dir is kept (and reused by the next Start).
	Dir string
	// Binary is the server to run. Empty means FindBinary. A binary named
	// "clickhouse" (single-binary install) is run as `clickhouse server`.
	Binary string
	// StartTimeout bounds how long Start waits for `SELECT 1` to answer.
	// Zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// Log, if set, receives the server's stdout and stderr and chserver's own
	// progress lines. The server's log files are always in Dir/log.
	Log io.Writer
}

// Server is a running private ClickHouse server.
type Server struct {
	// Addr is the native-protocol address, 127.0.0.1:port.
	Addr string
	// HTTPAddr is the HTTP interface address, 127.0.0.1:port.
	HTTPAddr string
	// Dir holds config.xml, data/ and log/.
	Dir string

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited and been reaped
	waitErr error         // the process's exit status, valid after done
	ownDir  bool
	logw    io.Writer
	outFile *os.File

	stopOnce sync.Once
	stopErr  error
}

// FindBinary returns the path of a ClickHouse server binary: $SHIPLENS_CLICKHOUSE_SERVER,
// else clickhouse-server on PATH, in /usr/sbin or /usr/bin, else a single-binary
// "clickhouse" on PATH or in /usr/bin. The error says how to install one.
func FindBinary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("cannot use %s=%s: not an executable file (%w); %s", EnvBinary, p, ErrNotInstalled, InstallHint)
	}
	for _, name := range []string{"clickhouse-server", "clickhouse"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/bin"} {
			if p := filepath.Join(dir, name); isExecutable(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("cannot find a ClickHouse server binary (%w); %s", ErrNotInstalled, InstallHint)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// EnsureInstalled returns the path of a ClickHouse server binary, installing
// Debian's clickhouse-server package with apt-get first if none is found and
// this process runs as root. Progress and apt-get's output go to w (may be
// nil). apt-get update runs only if the first install attempt fails.
func EnsureInstalled(ctx context.Context, w io.Writer) (string, error) {
	if p, err := FindBinary(); err == nil {
		return p, nil
	}
	if w == nil {
		w = io.Discard
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("cannot install clickhouse-server: not running as root (%w); %s", ErrNotInstalled, InstallHint)
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return "", fmt.Errorf("cannot install clickhouse-server: apt-get not found (%w); %s", ErrNotInstalled, InstallHint)
	}
	install := []string{"install", "-y", "--no-install-recommends", "clickhouse-server"}
	if err := runLogged(ctx, w, apt, install...); err != nil {
		fmt.Fprintf(w, "chserver: install failed (%v); refreshing package lists\n", err)
		if err := runLogged(ctx, w, apt, "update"); err != nil {
			return "", fmt.Errorf("cannot run apt-get update: %w", err)
		}
		if err := runLogged(ctx, w, apt, install...); err != nil {
			return "", fmt.Errorf("cannot install clickhouse-server with apt-get: %w", err)
		}
	}
	p, err := FindBinary()
	if err != nil {
		return "", fmt.Errorf("cannot find clickhouse-server after installing it: %w", err)
	}
	fmt.Fprintf(w, "chserver: using %s\n", p)
	return p, nil
}

// runLogged runs name with args, DEBIAN_FRONTEND=noninteractive, its output
// going to w.
func runLogged(ctx context.Context, w io.Writer, name string, args ...string) error {
	fmt.Fprintf(w, "chserver: running DEBIAN_FRONTEND=noninteractive %s %s\n", name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = w, w
	return cmd.Run()
}

// Start starts a private ClickHouse server and returns once it answers
// `SELECT 1` over the native protocol. It picks free ports (retrying with new
// ones if the server cannot bind), writes a minimal config.xml into Dir and
// runs the server in its own process group. If the server exits or does not
// answer in time, Start stops it, cleans up and returns an error that
// includes the tail of its log.
func Start(ctx context.Context, o Options) (*Server, error) {
	bin := o.Binary
	if bin == "" {
		var err error
		if bin, err = FindBinary(); err != nil {
			return nil, err
		}
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}

	dir, ownDir := o.Dir, false
	if dir == "" {
		d, err := tempdir.New(tempDirPrefix)
		if err != nil {
			return nil, fmt.Errorf("cannot create clickhouse temp dir: %w", err)
		}
		dir, ownDir = d, true
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve clickhouse dir: %w", err)
	}
	cleanup := func() {
		if ownDir {
			_ = os.RemoveAll(dir)
		}
	}

	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		s, err := startOnce(ctx, bin, dir, o.StartTimeout, logw)
		if err == nil {
			s.ownDir = ownDir
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) || ctx.Err() != nil {
			break
		}
		fmt.Fprintf(logw, "chserver: port taken, retrying with new ports (attempt %d)\n", attempt+1)
	}
	cleanup()
	return nil, lastErr
}

var errPortInUse = errors.New("port already in use")

// startOnce writes the config with fresh ports, starts the process and waits
// for it to answer. On failure the process is gone when it returns.
func startOnce(ctx context.Context, bin, dir string, timeout time.Duration, logw io.Writer) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	cfgPath, err := writeConfig(dir, ports[0], ports[1])
	if err != nil {
		return nil, err
	}
	logDir := filepath.Join(dir, "log")
	out, err := os.OpenFile(filepath.Join(logDir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot create clickhouse stdout log: %w", err)
	}

	var args []string
	if filepath.Base(bin) == "clickhouse" {
		args = append(args, "server")
	}
	args = append(args, "--config-file="+cfgPath)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if logw == io.Discard {
		cmd.Stdout, cmd.Stderr = out, out
	} else {
		w := io.MultiWriter(out, logw)
		cmd.Stdout, cmd.Stderr = w, w
	}

	s := &Server{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		HTTPAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		Dir:      dir,
		cmd:      cmd,
		done:     make(chan struct{}),
		logw:     logw,
		outFile:  out,
	}
	began := time.Now()
	fmt.Fprintf(logw, "chserver: starting %s %s (tcp %s, http %s)\n", bin, strings.Join(args, " "), s.Addr, s.HTTPAddr)
	if err := spawn.Start(cmd); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("cannot start %s: %w", bin, err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		_ = out.Close()
		close(s.done)
	}()

	if err := s.waitReady(ctx, timeout); err != nil {
		s.kill()
		tail := s.logTail()
		if strings.Contains(tail, "Address already in use") {
			return nil, fmt.Errorf("cannot start clickhouse-server: %w: %v\n%s", errPortInUse, err, tail)
		}
		return nil, fmt.Errorf("cannot start clickhouse-server: %w; log tail:\n%s", err, tail)
	}
	fmt.Fprintf(logw, "chserver: clickhouse-server pid %d ready at %s after %v\n", s.Pid(), s.Addr, time.Since(began).Round(time.Millisecond))
	return s, nil
}

// waitReady polls `SELECT 1` with backoff until it answers, the process
// exits, ctx ends or timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The process exiting ends the wait at once, not at the next attempt.
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var lastErr error
	err := retry.Do(ctx, retry.Policy{Initial: 10 * time.Millisecond, Max: 250 * time.Millisecond}, func(ctx context.Context) error {
		lastErr = ping(ctx, s.Addr)
		return lastErr
	})
	select {
	case <-s.done:
		return fmt.Errorf("process exited (%v) before answering SELECT 1", s.waitErr)
	default:
	}
	if err != nil {
		return fmt.Errorf("no answer to SELECT 1 at %s within %v (%w); last error: %v", s.Addr, timeout, err, lastErr)
	}
	return nil
}

// ping runs SELECT 1 over a fresh native-protocol connection.
func ping(ctx context.Context, addr string) error {
	// A refused dial is the common case while the server boots; check it
	// cheaply before building a client.
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	_ = c.Close()
	conn, err := Connect(ctx, addr, "")
	if err != nil {
		return err
	}
	defer conn.Close()
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	if one != 1 {
		return fmt.Errorf("SELECT 1 returned %d", one)
	}
	return nil
}

// Connect opens a clickhouse-go native-protocol connection to addr as the
// default user with no password, using database ("" for the server default),
// and checks it with a ping. The caller closes it.
func Connect(ctx context.Context, addr, database string) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:             []string{addr},
		Protocol:         clickhouse.Native,
		Auth:             clickhouse.Auth{Database: database, Username: "default"},
		DialTimeout:      2 * time.Second,
		MaxOpenConns:     4,
		MaxIdleConns:     2,
		ConnMaxLifetime:  time.Hour,
		ConnOpenStrategy: clickhouse.ConnOpenInOrder,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open clickhouse connection to %s: %w", addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("cannot ping clickhouse at %s: %w", addr, err)
	}
	return conn, nil
}

// Version returns the version() of the server at addr, or "" if it cannot be
// asked.
func Version(ctx context.Context, addr string) string {
	conn, err := Connect(ctx, addr, "")
	if err != nil {
		return ""
	}
	defer conn.Close()
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return ""
	}
	return v
}

// Pid returns the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done returns a channel closed once the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// LogPath returns the path of the server's main log file.
func (s *Server) LogPath() string { return filepath.Join(s.Dir, "log", "clickhouse-server.log") }

// Stop stops the server: SIGTERM to its process group, SIGKILL if it has not
// exited within 10 seconds, then waits for it and removes Dir if Start
// created it. It is safe to call more than once and from several goroutines.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		began := time.Now()
		pgid := s.Pid()
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		t := time.NewTimer(stopTimeout)
		select {
		case <-s.done:
			t.Stop()
		case <-t.C:
			fmt.Fprintf(s.logw, "chserver: clickhouse-server pid %d ignored SIGTERM for %v; sending SIGKILL\n", pgid, stopTimeout)
		}
		s.kill()
		fmt.Fprintf(s.logw, "chserver: clickhouse-server pid %d stopped after %v\n", pgid, time.Since(began).Round(time.Millisecond))
		if s.ownDir {
			if err := os.RemoveAll(s.Dir); err != nil {
				s.stopErr = fmt.Errorf("cannot remove clickhouse temp dir: %w", err)
			}
		}
	})
	return s.stopErr
}

// kill sends SIGKILL to the whole process group (anything still alive in it)
// and waits until the server process has been reaped.
func (s *Server) kill() {
	_ = syscall.Kill(-s.Pid(), syscall.SIGKILL)
	<-s.done
}

// logTail returns the last lines of the server's error log, main log and
// stdout/stderr, whichever exist.
func (s *Server) logTail() string {
	var b strings.Builder
	for _, name := range []string{"clickhouse-server.err.log", "clickhouse-server.log", "stdout.log"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, "log", name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", name, tailLines(data, 15))
	}
	if b.Len() == 0 {
		return "(no log output)"
	}
	return strings.TrimRight(b.String(), "\n")
}

func tailLines(data []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a moment
// ago (all held open together, then released).
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("cannot find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeConfig writes Dir/config.xml (and Dir/users.xml if the system one is
// missing) and creates the folders the config names.
func writeConfig(dir string, tcpPort, httpPort int) (string, error) {
	data := filepath.Join(dir, "data")
	logDir := filepath.Join(dir, "log")
	for _, d := range []string{data, filepath.Join(data, "tmp"), filepath.Join(data, "user_files"), filepath.Join(data, "format_schemas"), logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("cannot create clickhouse folder: %w", err)
		}
	}
	users := SystemUsersConfig
	if _, err := os.Stat(users); err != nil {
		users = filepath.Join(dir, "users.xml")
		if err := os.WriteFile(users, []byte(usersXML), 0o644); err != nil {
			return "", fmt.Errorf("cannot write clickhouse users.xml: %w", err)
		}
	}
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	slash := func(p string) string { return esc(p + string(filepath.Separator)) }
	// <yandex> is the root element ClickHouse 18.x expects; current releases
	// still accept it. mark_cache_size has no default in 18.16: the server
	// exits with "Not found: mark_cache_size" without it.
	cfg := fmt.Sprintf(`<?xml version="1.0"?>
<!-- Written by shiplens internal/chserver for a private test/demo server. -->
<yandex>
    <logger>
        <level>information</level>
        <log>%s</log>
        <errorlog>%s</errorlog>
        <size>50M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>%d</tcp_port>
    <http_port>%d</http_port>
    <path>%s</path>
    <tmp_path>%s</tmp_path>
    <user_files_path>%s</user_files_path>
    <format_schema_path>%s</format_schema_path>
    <users_config>%s</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <max_concurrent_queries>100</max_concurrent_queries>
    <timezone>UTC</timezone>
</yandex>
`,
		esc(filepath.Join(logDir, "clickhouse-server.log")),
		esc(filepath.Join(logDir, "clickhouse-server.err.log")),
		tcpPort, httpPort,
		slash(data), slash(filepath.Join(data, "tmp")), slash(filepath.Join(data, "user_files")), slash(filepath.Join(data, "format_schemas")),
		esc(users))
	path := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return "", fmt.Errorf("cannot write clickhouse config: %w", err)
	}
	return path, nil
}

// usersXML is written when SystemUsersConfig is missing: a default user with
// no password, reachable from localhost only, with access to every database.
const usersXML = `<?xml version="1.0"?>
<!-- Written by shiplens internal/chserver: /etc/clickhouse-server/users.xml was missing. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>10000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
`
