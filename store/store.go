// Package store is shiplens' ClickHouse storage. It parses ClickHouse
// addresses, applies the migrations of schemas/clickhouse, writes shipment
// facts and daily aggregates, reads a partition's state back for restore
// and single shipments for lookups, and answers the read queries: the
// carrier scorecard, the dashboard series (series.go) and the open
// shipments. It also keeps the ETA predictions, their outcomes and the ETA
// model (eta.go). Every statement it sends runs on ClickHouse 18.16 and on
// current releases.
//
// # Two tables
//
// shipment_facts holds one row per version of a shipment's state
// (ReplacingMergeTree(version), sorted by partition and tracking number):
// what a partition owner restores, what a lookup reads, what drill-downs
// show. Writing the same facts again is harmless: readers take the highest
// version (argMax).
//
// shipment_days holds the aggregates that reports and dashboards read: per
// carrier, lane, service, merchant and UTC day, the counts, sketch buckets
// and exceptions by type (analytics.Days). A query reads the days of its
// range only, so its cost follows the range and the number of
// carrier/lane/service/merchant combinations, not the shipments stored.
//
// # Why the aggregates are exact
//
// The aggregates are sums of signed changes: when a shipment's state
// changes, the processor adds its new contribution and subtracts the old one
// (analytics.Partition keeps, for every changed shipment, the contribution
// the aggregates hold). A late earlier delivered event thus moves a shipment
// from one day to another; a duplicate or replayed event changes no state
// and writes no change. Sums merge in any order, which SummingMergeTree
// does in the background, and readers always sum, so unmerged parts never
// show.
//
// Sums are not idempotent by themselves: a change written twice counts
// twice. What makes them idempotent is the position that every aggregates
// write carries in the same insert: per Kafka partition, the offset before
// which that partition's events are in the aggregates (rows of day
// 1970-01-01 and an empty carrier, summed like the rest). One insert of fewer than
// a million rows into a table without a partition key is one part, so the
// changes and the positions land together or not at all. Hence:
//
//   - A write that failed and is retried (WriteDays with retried true) waits
//     until the failed insert no longer runs on the server, then reads the
//     positions: at the write's ends it had landed (as when the connection
//     broke after the server received the insert), at its starts it had
//     not; anything else is another writer (ErrPositionMoved). The carrier
//     rollup, which a materialized view writes in the same INSERT after the
//     part of shipment_days is committed, carries the positions too; when
//     they lag there (the server cancelled the query between the two), the
//     retry writes the rollup rows alone.
//   - The processor writes the aggregates first and the facts second, then
//     commits. After a crash the facts are never ahead of the aggregates:
//     either both landed, or the aggregates are ahead. A new owner restores
//     the facts, reads its position, and treats the events before it as
//     already aggregated: it applies them to the state and rewrites their
//     facts without changing the aggregates again.
//   - Replays and rebalances reapply events to a state that already holds
//     them: no change, nothing written.
//   - A shipment evicted from memory and met again is looked up (Lookup)
//     and merged (analytics.Shipment.Merge); its stored contribution is what
//     the aggregates hold, so the change is exact.
//
// The guarantee assumes one writer per partition at a time, which the
// consumer group gives while members respect its rebalance timeout; a
// zombie writer is detected on retry (ErrPositionMoved), not prevented.
//
// # What it costs
//
// An aggregates write per merged flush: a few rows per touched
// carrier/lane/service/merchant/day plus one position row per partition,
// written before the facts. Day cells hold arrays of sketch buckets, so a
// cell's size follows its distinct transit and dwell buckets (at most about
// 350 for 1 h to 60 days at gamma 1.02). A restore reads, for one partition,
// two narrow columns of every version to choose the kept shipments, then
// the full rows of those only. A lookup of a batch of misses reads the
// tracking numbers of the partition's granules that may hold them: with
// random tracking numbers, most of the partition's tracking_number column.
//
// The columns of the facts table are defined once, in columns.go; the
// INSERT, the columnar batch, the restore SELECT and its scan all derive
// from that table. Errors that retrying cannot fix are marked
// retry.Permanent, so that callers stop instead of retrying forever; those
// caused by a schema other than this build's wrap ErrSchemaMismatch or
// ErrNoDatabase and say what differs.
//
// # ETA tables
//
// The predictions of package analytics/eta have four tables of their own
// (004_eta.sql): eta_latest holds each shipment's current prediction and,
// once it is delivered, a final row (basis delivered, p10 = p50 = p90 = the
// delivery); eta_history every prediction, one row per shipment, event
// time and milestone; eta_outcomes one row per delivered shipment; and
// eta_models the model snapshots. All are ReplacingMergeTrees whose keys a
// retried write repeats, and every read takes the highest rev per key
// itself (argMax over a GROUP BY) rather than wait for merges, so writing
// the same predictions or outcomes again changes no answer. Their columns
// are defined once, in eta.go, as the facts' are in columns.go.
//
// What they cost:
//
//   - A lookup (ETAs) checks, in every part of eta_latest, the tracking
//     numbers of the one granule (1024 rows) whose key range holds the
//     number, and reads the other columns only where it is (PREWHERE). Its
//     latency grows with the parts not yet merged; BenchmarkETALookup
//     measures it.
//   - The export (EachPrediction) reads all of eta_latest and takes each
//     shipment's latest row on the server, which spills that aggregation to
//     disk past 256 MiB; this process holds one row at a time.
//   - The accuracy (AccuracySQL) and the deliveries that the model learns
//     from (Deliveries) read the outcomes of the months within 100 days of
//     their range (eta_outcomes is partitioned by month of delivery) and
//     the predictions made from 100 days before the range to its end
//     (eta_history by month of as_of), of the range's delivered shipments
//     only, through the sorting key (tracking_number IN the delivered
//     ones). The 100 days are journeyBound, which covers processor
//     --lost-after's 90-day default: a journey, with its predictions and
//     any delivery time a late event superseded, is not expected to span
//     more (a longer one loses its earliest predictions from these
//     figures, nothing else). A one-day dashboard therefore
//     reads at most four to five months of predictions, a one-year one
//     about sixteen: the cost follows the range, not the stored history.
//     Within those months tracking numbers are random, so a range with as
//     many delivered shipments as the months have granules reads most of
//     them. No skip index of 18.16 would do better: sorted by tracking
//     number, every granule spans its part's as_of, which the part's own
//     minmax of the partition key already prunes by, and bloom filters
//     came later; sorting the history by time instead would cost every
//     per-shipment read and the deduplication, which needs a shipment's
//     rows together.
//   - The history's deduplication per (tracking number, as_of, milestone)
//     is a GROUP BY over the predictions read, spilling to disk past 256
//     MiB; the joins hold the range's delivered shipments in memory.
//   - A model snapshot is a row in a granule of its own (index_granularity
//     1): LatestModel reads the version column, then the one snapshot. Old
//     snapshots are kept.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
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

	mu            sync.Mutex
	failedInserts []string // query ids of aggregates inserts that failed (days.go)
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
			if err := conn.Exec(ctx, stmt); err != nil && !addedBefore(stmt, err) {
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

// addedBefore reports whether err is an ALTER TABLE ... ADD COLUMN failing
// because the column exists: a migration that stopped half-way and runs
// again. ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS.
func addedBefore(stmt string, err error) bool {
	var ex *clickhouse.Exception
	return strings.Contains(strings.ToUpper(stmt), "ADD COLUMN") && errors.As(err, &ex) && ex.Code == 44
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
