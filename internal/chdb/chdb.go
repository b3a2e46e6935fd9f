// Package chdb runs current ClickHouse in-process through libchdb, so tests can
// prove that the SQL the project ships (DDL, report and dashboard queries) also
// runs on a current engine, next to the ClickHouse 18.16 server that chserver
// starts.
//
// The library is the libchdb.so shipped by the npm package
// @chdb/lib-linux-x64-gnu (ClickHouse 26.x). It is loaded at run time with
// github.com/ebitengine/purego, so nothing here needs cgo or a C toolchain.
// fetch.sh (called by `make test`) downloads it into .cache/chdb at the module
// root, where Find looks for it.
//
// libchdb keeps process-wide state: it is loaded once per process, and its
// engine uses one storage path per process. Connections to that path may be
// open at once; another path can be used only after every DB is closed. Open
// enforces both rules and returns an error instead of letting the library
// misbehave. chDB's own signal handlers are disabled before the first connect,
// and the Go runtime's handlers are put back after that call and after every
// connect: libchdb resets SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and SIGABRT
// to SIG_DFL, which would turn every Go nil-pointer panic (and so every
// recovered panic in a test) into a crash of the whole process.
//
// This package must not be used in production code paths: it exists for tests
// and tools that check SQL compatibility. It must not download anything; that
// is fetch.sh's job.
package chdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// EnvLibPath names the environment variable that, when set, gives the path of
// libchdb.so and overrides the search in the module's .cache/chdb.
const EnvLibPath = "SHIPLENS_LIBCHDB"

// CacheDir is the folder, relative to the module root, where fetch.sh unpacks
// the npm package that ships libchdb.so.
const CacheDir = ".cache/chdb"

// InstallHint tells a user how to obtain libchdb.so.
const InstallHint = "run `make test` (or `sh internal/chdb/fetch.sh`), which fetches @chdb/lib-linux-x64-gnu with npm into .cache/chdb, or set " + EnvLibPath + " to the path of libchdb.so"

// ErrNotFound is returned (wrapped) by Find when libchdb.so is not available.
var ErrNotFound = errors.New("libchdb.so not found")

// Find returns the path of libchdb.so: $SHIPLENS_LIBCHDB if set, otherwise the
// first libchdb.so under .cache/chdb in the module root, found by walking up
// from the working directory to the folder holding go.mod.
func Find() (string, error) {
	if p := os.Getenv(EnvLibPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("cannot use %s=%s: %w (%w); %s", EnvLibPath, p, err, ErrNotFound, InstallHint)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("cannot find libchdb.so: %w (%w); %s", err, ErrNotFound, InstallHint)
	}
	dir := filepath.Join(root, CacheDir)
	var found []string
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a missing or unreadable folder just means no library there
		}
		if d.IsDir() && path != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // fetch.sh's unfinished downloads
		}
		if !d.IsDir() && d.Name() == "libchdb.so" {
			found = append(found, path)
		}
		return nil
	})
	if walkErr != nil || len(found) == 0 {
		return "", fmt.Errorf("cannot find libchdb.so under %s: %w; %s", dir, ErrNotFound, InstallHint)
	}
	sort.Strings(found) // deterministic choice when several versions are unpacked
	return found[len(found)-1], nil
}

// moduleRoot walks up from the working directory to the first folder holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot get working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above")
		}
		dir = parent
	}
}

// library holds the functions resolved from the loaded libchdb.so.
type library struct {
	path                  string
	connect               func(argc int32, argv unsafe.Pointer) unsafe.Pointer
	closeConn             func(conn unsafe.Pointer)
	query                 func(conn unsafe.Pointer, sql, format string) unsafe.Pointer
	resultBuffer          func(res unsafe.Pointer) *byte
	resultLength          func(res unsafe.Pointer) uintptr
	resultError           func(res unsafe.Pointer) *byte
	destroyResult         func(res unsafe.Pointer)
	setSignalHandlersFlag func(enabled int32)
}

var (
	loadOnce sync.Once
	lib      *library
	loadErr  error

	// state guards the process-wide engine rules: one storage path at a time.
	state struct {
		sync.Mutex
		open int    // connections currently open
		path string // storage path of the open connections
	}
)

// load dlopens libPath once per process and resolves the functions used here.
func load(libPath string) (*library, error) {
	loadOnce.Do(func() {
		h, err := purego.Dlopen(libPath, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			loadErr = fmt.Errorf("cannot load %s: %w", libPath, err)
			return
		}
		l := &library{path: libPath}
		reg := func(fptr any, name string) {
			if loadErr != nil {
				return
			}
			if _, err := purego.Dlsym(h, name); err != nil {
				loadErr = fmt.Errorf("cannot find %s in %s: %w", name, libPath, err)
				return
			}
			purego.RegisterLibFunc(fptr, h, name)
		}
		reg(&l.connect, "chdb_connect")
		reg(&l.closeConn, "chdb_close_conn")
		reg(&l.query, "chdb_query")
		reg(&l.resultBuffer, "chdb_result_buffer")
		reg(&l.resultLength, "chdb_result_length")
		reg(&l.resultError, "chdb_result_error")
		reg(&l.destroyResult, "chdb_destroy_query_result")
		if loadErr != nil {
			return
		}
		// Optional in older builds; without it chDB would install its own
		// SIGSEGV/SIGBUS/... handlers over the Go runtime's.
		if _, err := purego.Dlsym(h, "chdb_set_signal_handlers_enabled"); err == nil {
			purego.RegisterLibFunc(&l.setSignalHandlersFlag, h, "chdb_set_signal_handlers_enabled")
			// Disabling resets the fatal signals to SIG_DFL at once; put
			// the Go runtime's handlers back.
			saved := saveSignals()
			l.setSignalHandlersFlag(0)
			restoreSignals(saved)
		}
		lib = l
	})
	if loadErr != nil {
		return nil, loadErr
	}
	if filepath.Clean(libPath) != filepath.Clean(lib.path) {
		return nil, fmt.Errorf("cannot load %s: libchdb is already loaded from %s and can be loaded only once per process", libPath, lib.path)
	}
	return lib, nil
}

// DB is one connection to the in-process chDB engine. Its methods are safe for
// concurrent use; queries on one DB run one at a time.
type DB struct {
	mu     sync.Mutex
	lib    *library
	conn   unsafe.Pointer // chdb_connection* as returned by chdb_connect
	path   string
	closed bool
}

// Open loads libPath (once per process) and connects to the engine with its
// data stored in dataDir, which is created if missing. dataDir is required:
// libchdb's ":memory:" mode writes a folder literally named ":memory:" into the
// working directory. Several DBs may be open on the same dataDir; a different
// dataDir can be used only after every open DB has been closed, because the
// engine keeps one storage path per process.
func Open(libPath, dataDir string) (*DB, error) {
	if dataDir == "" {
		return nil, errors.New("cannot open chdb: a data dir is required")
	}
	l, err := load(libPath)
	if err != nil {
		return nil, err
	}
	path, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve chdb data dir %s: %w", dataDir, err)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create chdb data dir: %w", err)
	}

	state.Lock()
	defer state.Unlock()
	if state.open > 0 && state.path != path {
		return nil, fmt.Errorf("cannot open chdb on %s: the engine is in use on %s; close every chdb.DB first (one storage path per process)", path, state.path)
	}

	args := []string{"clickhouse", "--path=" + path}
	conn := l.connectArgs(args)
	if conn == nil {
		return nil, fmt.Errorf("cannot connect to chdb with %q: chdb_connect returned NULL", args)
	}
	state.open++
	state.path = path
	return &DB{lib: l, conn: conn, path: path}, nil
}

// connectArgs builds a C argv from args (pinned for the duration of the call)
// and calls chdb_connect.
func (l *library) connectArgs(args []string) unsafe.Pointer {
	var pin runtime.Pinner
	defer pin.Unpin()
	argv := make([]*byte, len(args)+1)
	for i, a := range args {
		b := append([]byte(a), 0)
		pin.Pin(&b[0])
		argv[i] = &b[0]
	}
	pin.Pin(&argv[0])
	// The engine boots on the first connect and resets fatal-signal handlers;
	// put the Go runtime's back so Go panics keep working.
	saved := saveSignals()
	defer restoreSignals(saved)
	return l.connect(int32(len(args)), unsafe.Pointer(&argv[0]))
}

// Path returns the absolute storage path the engine uses for this DB.
func (db *DB) Path() string { return db.path }

// Query runs one SQL statement and returns its output in format (for example
// "TabSeparated", "CSV", "JSONEachRow"; "" means TabSeparated). The error
// carries the engine's message from chdb_result_error.
func (db *DB) Query(sql, format string) (string, error) {
	if format == "" {
		format = "TabSeparated"
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return "", errors.New("cannot query chdb: connection is closed")
	}
	handle := *(*unsafe.Pointer)(db.conn) // chdb_connection
	res := db.lib.query(handle, sql, format)
	if res == nil {
		return "", errors.New("cannot run chdb query: chdb_query returned NULL")
	}
	defer db.lib.destroyResult(res)
	if p := db.lib.resultError(res); p != nil {
		msg := strings.TrimSpace(cString(p))
		if msg == "" {
			msg = "unknown error"
		}
		return "", fmt.Errorf("cannot run chdb query: %s", msg)
	}
	buf := db.lib.resultBuffer(res)
	n := db.lib.resultLength(res)
	if buf == nil || n == 0 {
		return "", nil
	}
	return string(unsafe.Slice(buf, n)), nil // copies out of C memory before destroy
}

// Exec runs one SQL statement and discards its output.
func (db *DB) Exec(sql string) error {
	_, err := db.Query(sql, "TabSeparated")
	return err
}

// Close closes the connection. It is safe to call more than once. Close does
// not unload the library, which stays loaded for the life of the process.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	db.lib.closeConn(db.conn)
	db.conn = nil
	state.Lock()
	state.open--
	state.Unlock()
	return nil
}

// cString copies the NUL-terminated C string at p.
func cString(p *byte) string {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
