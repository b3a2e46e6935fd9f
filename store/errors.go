package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	chcol "github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/shiplens/shiplens/internal/retry"
)

// ErrNoDatabase is wrapped by the errors of Open, and of any later call,
// when the configured database does not exist: Migrate creates it.
var ErrNoDatabase = errors.New("no such database")

// ErrSchemaMismatch is wrapped by the errors of calls that failed because
// the shipment facts table is not the one this package writes and reads: the
// migrations have not been applied, or the database was migrated by another
// version of shiplens. Those errors are also marked retry.Permanent.
var ErrSchemaMismatch = errors.New("schema mismatch")

// permanentCodes are the ClickHouse exception codes of statements that fail
// the same way however often they are sent: the SQL or the schema is wrong.
// Names as ClickHouse's errorCodeToName gives them.
var permanentCodes = map[int32]string{
	8:   "THERE_IS_NO_COLUMN",
	10:  "NOT_FOUND_COLUMN_IN_BLOCK",
	16:  "NO_SUCH_COLUMN_IN_TABLE",
	36:  "BAD_ARGUMENTS",
	42:  "NUMBER_OF_ARGUMENTS_DOESNT_MATCH",
	43:  "ILLEGAL_TYPE_OF_ARGUMENT",
	44:  "ILLEGAL_COLUMN",
	46:  "UNKNOWN_FUNCTION",
	47:  "UNKNOWN_IDENTIFIER",
	48:  "NOT_IMPLEMENTED",
	53:  "TYPE_MISMATCH",
	60:  "UNKNOWN_TABLE",
	62:  "SYNTAX_ERROR",
	70:  "CANNOT_CONVERT_TYPE",
	81:  "UNKNOWN_DATABASE",
	168: "TOO_BIG_AST",
	170: "BAD_GET",
	179: "MULTIPLE_EXPRESSIONS_FOR_ALIAS",
	184: "ILLEGAL_AGGREGATION",
	215: "NOT_AN_AGGREGATE",
	352: "AMBIGUOUS_COLUMN_NAME",
	386: "NO_COMMON_TYPE",
}

const codeUnknownDatabase = 81

// Retryable reports whether a failed call may succeed if tried again.
// Network and transient server errors (timeouts, memory limits, too many
// parts) are retryable. Bad SQL and schema mismatches are not: ClickHouse
// exceptions such as UNKNOWN_TABLE, NO_SUCH_COLUMN_IN_TABLE or TYPE_MISMATCH,
// and clickhouse-go refusing to convert a column of another type. Neither is
// a cancelled context.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ex *proto.Exception
	if errors.As(err, &ex) {
		_, permanent := permanentCodes[ex.Code]
		return !permanent
	}
	return !conversionError(err)
}

// conversionError reports whether err is clickhouse-go refusing to convert
// between a column's ClickHouse type and a Go type: a column of another type
// than factColumns says, or a Scan that does not fit the query.
func conversionError(err error) bool {
	var (
		conv   *chcol.ColumnConverterError
		col    *chcol.Error
		unsupp *chcol.UnsupportedColumnTypeError
		op     *clickhouse.OpError
	)
	switch {
	case errors.As(err, &conv), errors.As(err, &col), errors.As(err, &unsupp):
		return true
	case errors.As(err, &op): // it does not unwrap
		if op.Op == "Scan" {
			return true
		}
		return conversionError(op.Err)
	}
	return false
}

// failed returns err, the failure of what (a format and its args), as the
// error of a call. Errors that retrying cannot fix are marked
// retry.Permanent, and when the shipment facts table does not match factColumns
// the error says how, wrapping ErrSchemaMismatch or ErrNoDatabase.
func (s *Store) failed(ctx context.Context, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if ctx.Err() != nil || Retryable(err) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if mismatch := s.checkSchema(ctx); mismatch != nil {
		return retry.Permanent(fmt.Errorf("%s: %w (%w)", what, mismatch, err))
	}
	return retry.Permanent(fmt.Errorf("%s: %w", what, err))
}

// checkSchema compares the shipment facts table with factColumns. It returns an
// error wrapping ErrSchemaMismatch or ErrNoDatabase that says what differs,
// or nil when the table matches or cannot be read.
func (s *Store) checkSchema(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rows, err := s.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = "+quote(s.cfg.Database)+" AND table = '"+factsTable+"'")
	if err != nil {
		var ex *proto.Exception
		if errors.As(err, &ex) && ex.Code == codeUnknownDatabase {
			return fmt.Errorf("%w %s", ErrNoDatabase, s.cfg.Database)
		}
		return nil
	}
	defer rows.Close()
	have := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil
		}
		have[name] = typ
	}
	if rows.Err() != nil {
		return nil
	}
	diff := schemaDiff(have)
	if diff == "" {
		return nil
	}
	return fmt.Errorf("%w: table %s.%s %s; its schema version differs from this build's: apply the migrations (migrate), or run the shiplens version that migrated it",
		ErrSchemaMismatch, s.cfg.Database, factsTable, diff)
}

// schemaDiff says how a shipment facts table with the columns have (name to
// type) differs from factColumns, or returns "" when it has them all.
// Columns factColumns does not know are left alone: inserts fill them with
// their defaults.
func schemaDiff(have map[string]string) string {
	if len(have) == 0 {
		return "does not exist"
	}
	var missing, wrong []string
	for _, c := range factColumns {
		switch typ, ok := have[c.name]; {
		case !ok:
			missing = append(missing, c.name+" "+c.typ)
		case typ != c.typ:
			wrong = append(wrong, fmt.Sprintf("%s %s, want %s", c.name, typ, c.typ))
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "lacks column "+strings.Join(missing, ", "))
	}
	if len(wrong) > 0 {
		parts = append(parts, "has "+strings.Join(wrong, ", "))
	}
	return strings.Join(parts, "; ")
}
