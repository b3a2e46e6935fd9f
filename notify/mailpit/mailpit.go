// Package mailpit gives tests a real SMTP server: it starts a private mailpit
// (github.com/axllent/mailpit) on free ports of 127.0.0.1 and reads what it
// received through mailpit's HTTP API, decoded by mailpit and as raw source.
//
// When no mailpit binary is found the test is skipped with a message saying
// how to install one, except under CI=true, where it fails. The binary is
// looked for in $SHIPLENS_MAILPIT, then in the module's .cache/bin (where
// `make deps` installs it), then on PATH. This package must not install
// anything and must not be imported by non-test code.
package mailpit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shiplens/shiplens/internal/retry"
	"github.com/shiplens/shiplens/internal/spawn"
	"github.com/shiplens/shiplens/internal/testenv"
)

// Version is the mailpit release the Makefile installs.
const Version = "v1.33.1"

// EnvBinary names the variable holding the path of a mailpit binary.
const EnvBinary = "SHIPLENS_MAILPIT"

// InstallHint says how to get mailpit.
const InstallHint = "run `make deps`, or `GOBIN=$PWD/.cache/bin go install github.com/axllent/mailpit@" + Version + "` in the repository root"

// Server is a running mailpit.
type Server struct {
	SMTPAddr string // host:port of its SMTP server
	APIURL   string // root of its HTTP API, http://host:port

	cmd  *exec.Cmd
	done chan struct{}
	out  *lockedBuffer
}

// FindBinary returns the path of a mailpit binary, or an error that says
// how to install one.
func FindBinary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("%s=%s is not an executable file", EnvBinary, p)
	}
	if root, err := moduleRoot(); err == nil {
		if p := filepath.Join(root, ".cache", "bin", "mailpit"); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no mailpit binary (SMTP server for the e-mail tests): %s", InstallHint)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start starts a mailpit for t, stopped when t ends, with mailpit's flags
// args added (e.g. --smtp-allowed-recipients REGEXP). It accepts any SMTP
// AUTH, also without TLS, so tests can exercise authentication. It skips t
// when no binary is installed, or fails t under CI=true.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	bin, err := FindBinary()
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("%v (CI=true: the e-mail tests must run)", err)
		}
		t.Skipf("skipping: %v", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(ctx, bin, dir, args)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		last = err
	}
	t.Fatalf("cannot start mailpit: %v", last)
	return nil
}

func start(ctx context.Context, bin, dir string, args []string) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	s := &Server{
		SMTPAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		APIURL:   "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		done:     make(chan struct{}),
		out:      &lockedBuffer{},
	}
	s.cmd = exec.Command(bin, append([]string{
		"--smtp", s.SMTPAddr,
		"--listen", strings.TrimPrefix(s.APIURL, "http://"),
		"--database", filepath.Join(dir, "mailpit-"+strconv.Itoa(ports[0])+".db"),
		"--disable-version-check",
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--smtp-disable-rdns",
	}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := spawn.Start(s.cmd); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, s.out.String())
	}
	return s, nil
}

// waitReady returns once both the API and the SMTP port answer.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var last error
	err := retry.Do(ctx, retry.Policy{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond}, func(ctx context.Context) error {
		last = s.ready(ctx)
		return last
	})
	select {
	case <-s.done:
		return errors.New("mailpit exited before it was ready")
	default:
	}
	if err != nil {
		return fmt.Errorf("mailpit not ready: %w (last: %v)", err, last)
	}
	return nil
}

func (s *Server) ready(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /readyz: %s", resp.Status)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.SMTPAddr)
	if err != nil {
		return err
	}
	return c.Close()
}

// Stop stops mailpit: SIGTERM to its process group, SIGKILL after 5 s.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// Address is a mailbox as mailpit reports it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is one received message: mailpit's decoded view, its headers and
// its raw source.
type Message struct {
	ID        string              `json:"ID"`
	MessageID string              `json:"MessageID"` // without angle brackets
	From      Address             `json:"From"`
	To        []Address           `json:"To"`
	Cc        []Address           `json:"Cc"`
	Bcc       []Address           `json:"Bcc"` // envelope recipients not named in To or Cc
	Subject   string              `json:"Subject"`
	Text      string              `json:"Text"`
	Username  string              `json:"Username"` // of SMTP AUTH, if the client authenticated
	Headers   map[string][]string `json:"-"`
	Raw       []byte              `json:"-"`
}

// Recipients returns every envelope recipient of m: To, Cc and Bcc.
func (m *Message) Recipients() []string {
	var out []string
	for _, list := range [][]Address{m.To, m.Cc, m.Bcc} {
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// Messages returns every message received so far, oldest first.
func (s *Server) Messages(ctx context.Context) ([]Message, error) {
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	if err := s.get(ctx, "/api/v1/messages?limit=1000", &list); err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(list.Messages))
	for i := len(list.Messages) - 1; i >= 0; i-- { // the API lists newest first
		id := list.Messages[i].ID
		var m Message
		if err := s.get(ctx, "/api/v1/message/"+id, &m); err != nil {
			return nil, err
		}
		if err := s.get(ctx, "/api/v1/message/"+id+"/headers", &m.Headers); err != nil {
			return nil, err
		}
		raw, err := s.fetch(ctx, "/api/v1/message/"+id+"/raw")
		if err != nil {
			return nil, err
		}
		m.Raw = raw
		out = append(out, m)
	}
	return out, nil
}

// WaitMessages returns the messages once at least n have arrived, or fails
// when ctx ends.
func (s *Server) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	var got []Message
	err := retry.Do(ctx, retry.Policy{Initial: 20 * time.Millisecond, Max: 250 * time.Millisecond}, func(ctx context.Context) error {
		var err error
		if got, err = s.Messages(ctx); err != nil {
			return err
		}
		if len(got) < n {
			return fmt.Errorf("%d of %d messages arrived", len(got), n)
		}
		return nil
	})
	if err != nil {
		return got, fmt.Errorf("waiting for %d messages: %w", n, err)
	}
	return got, nil
}

func (s *Server) fetch(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body, nil
}

func (s *Server) get(ctx context.Context, path string, v any) error {
	body, err := s.fetch(ctx, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("cannot decode GET %s: %w", path, err)
	}
	return nil
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
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

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
