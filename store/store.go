// Package store is shiplens' ClickHouse storage: it parses the --clickhouse
// address, applies the migrations of schemas/clickhouse, writes shipment facts
// in idempotent batches, reads a partition's state back for restore and runs
// the carrier scorecard query. Every statement it sends runs on ClickHouse
// 18.16 and on current releases. It must not hold shipment state or decide
// when to write: the processor does.
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

// ParseAddr reads a --clickhouse value: either host:port or a DSN such as
// clickhouse://user:pass@host:port/db.
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

// Open connects to the database of cfg, which Migrate must have created.
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
		if errors.As(err, &ex) && ex.Code == 81 { // UNKNOWN_DATABASE
			return nil, fmt.Errorf("cannot use ClickHouse database %q at %s: it does not exist; run `shiplens migrate --clickhouse %s` first", cfg.Database, cfg.Addr, cfg.Addr)
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

// Retryable reports whether a failed call may succeed if tried again: network
// and server-side transient errors are, bad SQL and schema mismatches are not.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ex *proto.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case 16, 44, 47, 53, 60, 62, 81: // no such column, unknown identifier/table/database, type mismatch, syntax
			return false
		}
		return true
	}
	return true
}
