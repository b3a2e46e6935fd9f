// Package store is shiplens' ClickHouse storage. It parses ClickHouse
// addresses, applies the migrations of schemas/clickhouse, writes shipment
// facts in idempotent batches, reads a partition's latest state back for
// restore, and answers the read queries: the carrier scorecard and the open
// shipments. Every statement it sends runs on ClickHouse 18.16 and on
// current releases.
//
// The processor consumes it through processor.Sink (WriteFacts and Restore);
// reports, the API and the poller through its query methods, behind
// interfaces of their own. It must not hold shipment state or decide when to
// write: the processor does both.
//
// The columns of the shipments table are defined once, in columns.go; the
// INSERT, the columnar batch, the restore SELECT and its scan all derive from
// that table. Errors that retrying cannot fix are marked retry.Permanent, so
// that callers stop instead of retrying forever; those caused by a schema
// other than this build's wrap ErrSchemaMismatch or ErrNoDatabase and say
// what differs.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/shiplens/shiplens/schemas"
)

// DefaultAddr is the ClickHouse native-protocol address used when none is given.
const DefaultAddr = "127.0.0.1:9000"

// DefaultDatabase is the database shiplens uses unless the DSN names another.
const DefaultDatabase = "shiplens"

// Config says how to reach ClickHouse.
type Config struct {
	Addr        string        // host:port of the native protocol; defaults to DefaultAddr
	Database    string        // defaults to DefaultDatabase
	User        string        // defaults to "default"
	Password    string        // defaults to empty
	DialTimeout time.Duration // defaults to 5s
}

// ParseAddr parses a ClickHouse address: either host:port or a DSN such as
// clickhouse://user:pass@host:port/db?dial_timeout=2s. The empty string means
// DefaultAddr.
func ParseAddr(s string) (Config, error) {
	if s == "" {
		s = DefaultAddr
	}
	if !strings.Contains(s, "://") {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return Config{}, fmt.Errorf("cannot parse ClickHouse address %q: want host:port or clickhouse://user:pass@host:port/db", s)
		}
		return Config{Addr: s}.withDefaults(), nil
	}
	if !strings.HasPrefix(s, "clickhouse://") && !strings.HasPrefix(s, "tcp://") {
		return Config{}, fmt.Errorf("cannot parse ClickHouse address %q: only the native protocol (clickhouse://host:9000) is supported", redact(s))
	}
	u, err := url.Parse(s)
	if err != nil {
		return Config{}, fmt.Errorf("cannot parse ClickHouse DSN %q: %v", redact(s), err)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return Config{}, fmt.Errorf("cannot parse ClickHouse DSN %q: want exactly one host:port", redact(s))
	}
	c := Config{Addr: u.Host, Database: strings.Trim(u.Path, "/")}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if d := u.Query().Get("dial_timeout"); d != "" {
		if c.DialTimeout, err = time.ParseDuration(d); err != nil {
			return Config{}, fmt.Errorf("cannot parse dial_timeout %q in ClickHouse DSN: %w", d, err)
		}
	}
	return c.withDefaults(), c.Validate()
}

func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	i := strings.Index(dsn, "://")
	if at < 0 || i < 0 || at < i {
		return dsn
	}
	return dsn[:i+3] + "***" + dsn[at:]
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.User == "" {
		c.User = "default"
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	for _, r := range c.Database {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("invalid ClickHouse database name %q: use letters, digits and _", c.Database)
		}
	}
	return nil
}

// String returns the address without the password.
func (c Config) String() string { return c.User + "@" + c.Addr + "/" + c.Database }

func (c Config) open(database string) (driver.Conn, error) {
	return clickhouse.Open(&clickhouse.Options{
		Addr:             []string{c.Addr},
		Auth:             clickhouse.Auth{Database: database, Username: c.User, Password: c.Password},
		DialTimeout:      c.DialTimeout,
		ReadTimeout:      5 * time.Minute,
		MaxOpenConns:     16,
		MaxIdleConns:     16,
		ConnMaxLifetime:  time.Hour,
		ConnOpenStrategy: clickhouse.ConnOpenInOrder,
	})
}

// Store is a connection to shiplens' ClickHouse database.
type Store struct {
	cfg  Config
	conn driver.Conn
}

// Open connects to the database of cfg, which Migrate must have created;
// when it does not exist, the error wraps ErrNoDatabase.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn, err := cfg.open(cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to ClickHouse at %s: %w", cfg.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		var ex *proto.Exception
		if errors.As(err, &ex) && ex.Code == codeUnknownDatabase {
			return nil, fmt.Errorf("cannot open ClickHouse at %s: %w %s", cfg.Addr, ErrNoDatabase, cfg.Database)
		}
		return nil, fmt.Errorf("cannot reach ClickHouse at %s: %w", cfg.Addr, err)
	}
	return &Store{cfg: cfg, conn: conn}, nil
}

// Conn returns the underlying clickhouse-go connection.
func (s *Store) Conn() driver.Conn { return s.conn }

// Close closes the connection.
func (s *Store) Close() error { return s.conn.Close() }

// migrationsTable records applied migrations, one row per version.
const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations
(version UInt32, name String, applied_at DateTime)
ENGINE = ReplacingMergeTree ORDER BY version`

// Migrate creates the database of cfg if needed and applies every embedded
// migration not yet recorded in its schema_migrations table, in order. It
// returns the names of the migrations it applied.
func Migrate(ctx context.Context, cfg Config, log io.Writer) ([]string, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	migs, err := schemas.Migrations()
	if err != nil {
		return nil, err
	}
	boot, err := cfg.open("default")
	if err != nil {
		return nil, fmt.Errorf("cannot connect to ClickHouse at %s: %w", cfg.Addr, err)
	}
	defer boot.Close()
	if err := boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+cfg.Database); err != nil {
		return nil, fmt.Errorf("cannot create database %s at %s: %w", cfg.Database, cfg.Addr, err)
	}
	conn, err := cfg.open(cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to ClickHouse at %s: %w", cfg.Addr, err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, migrationsTable); err != nil {
		return nil, fmt.Errorf("cannot create schema_migrations: %w", err)
	}
	done := map[uint32]bool{}
	rows, err := conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("cannot read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cannot read schema_migrations: %w", err)
		}
		done[v] = true
	}
	rows.Close()
	var applied []string
	for _, m := range migs {
		if done[uint32(m.Version)] {
			continue
		}
		name := fmt.Sprintf("%03d_%s", m.Version, m.Name)
		for _, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return applied, fmt.Errorf("cannot apply migration %s: %w", name, err)
			}
		}
		if err := record(ctx, conn, m.Version, m.Name); err != nil {
			return applied, fmt.Errorf("cannot record migration %s: %w", name, err)
		}
		if log != nil {
			fmt.Fprintf(log, "applied migration %s\n", name)
		}
		applied = append(applied, name)
	}
	return applied, nil
}

// record inserts a schema_migrations row. It uses a batch because an INSERT
// sent through Exec hangs on ClickHouse 18.16's native protocol.
func record(ctx context.Context, conn driver.Conn, version int, name string) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied_at)")
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Append(uint32(version), name, time.Now().UTC().Truncate(time.Second)); err != nil {
		return err
	}
	return b.Send()
}
