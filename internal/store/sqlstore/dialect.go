package sqlstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mltrack/mltrack/internal/sqlitedriver"
)

// dialect holds the few differences between SQLite and PostgreSQL.
type dialect interface {
	name() string
	// rebind turns ? placeholders into the dialect's.
	rebind(query string) string
	// isUniqueViolation reports a primary key or unique constraint error.
	isUniqueViolation(err error) bool
	// like and ilike are case-sensitive and case-insensitive pattern matches.
	like(col, param string) string
	ilike(col, param string) string
	// nullsLast orders by expr in direction dir (" ASC" or " DESC") with
	// NULLs last, as MLflow does: plainly where the dialect already puts
	// NULLs there (so that an index can serve the order), else with a CASE.
	nullsLast(expr, dir string) []string
	// insertionOrder is the column that orders a table's rows as they were
	// inserted, which is the order MLflow's unordered reads return them in.
	insertionOrder() string
}

func nullsLastCase(expr, dir string) []string {
	return []string{"CASE WHEN " + expr + " IS NULL THEN 1 ELSE 0 END", expr + dir}
}

type sqliteDialect struct{}

func (sqliteDialect) name() string           { return "sqlite" }
func (sqliteDialect) rebind(q string) string { return q }

// The SQLite connections run with PRAGMA case_sensitive_like=ON, so LIKE is
// case-sensitive as on PostgreSQL (and as MLflow's LIKE is); ILIKE lowers both sides.
func (sqliteDialect) like(col, param string) string { return col + " LIKE " + param }
func (sqliteDialect) ilike(col, param string) string {
	return "LOWER(" + col + ") LIKE LOWER(" + param + ")"
}

func (sqliteDialect) insertionOrder() string { return "rowid" }

// SQLite sorts NULLs as the smallest values: last in descending order.
func (sqliteDialect) nullsLast(expr, dir string) []string {
	if dir == " DESC" {
		return []string{expr + dir}
	}
	return nullsLastCase(expr, dir)
}

func (sqliteDialect) isUniqueViolation(err error) bool {
	return sqlitedriver.IsUniqueViolation(err)
}

type postgresDialect struct{}

func (postgresDialect) name() string                   { return "postgres" }
func (postgresDialect) like(col, param string) string  { return col + " LIKE " + param }
func (postgresDialect) ilike(col, param string) string { return col + " ILIKE " + param }

// ctid is the row's place in the heap: insertion order for rows never
// updated, as logged model metrics are.
func (postgresDialect) insertionOrder() string { return "ctid" }

// PostgreSQL sorts NULLs as the largest values: last in ascending order.
func (postgresDialect) nullsLast(expr, dir string) []string {
	if dir == " ASC" {
		return []string{expr + dir}
	}
	return nullsLastCase(expr, dir)
}

func (postgresDialect) rebind(q string) string {
	var b strings.Builder
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '\'' {
			inQuote = !inQuote
		}
		if c == '?' && !inQuote {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (postgresDialect) isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// randomID is a 32-hex-digit id, as MLflow's uuid4().hex.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant
	return hex.EncodeToString(b[:])
}
