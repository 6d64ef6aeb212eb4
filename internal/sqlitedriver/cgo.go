//go:build cgosqlite

package sqlitedriver

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Kind names the driver of this build, for the start-up log.
const Kind = "cgo (mattn/go-sqlite3)"

func init() { sql.Register("sqlite", pragmaDriver{}) }

// pragmaDriver is mattn's driver reading modernc's _pragma parameters.
type pragmaDriver struct{}

func (pragmaDriver) Open(dsn string) (driver.Conn, error) {
	base, pragmas := splitPragmas(dsn)
	c, err := (&sqlite3.SQLiteDriver{}).Open(base)
	if err != nil {
		return nil, err
	}
	sc := c.(*sqlite3.SQLiteConn)
	for _, p := range pragmas {
		if _, err := sc.Exec("PRAGMA "+p, nil); err != nil {
			sc.Close()
			return nil, fmt.Errorf("sqlite: PRAGMA %s: %w", p, err)
		}
	}
	return c, nil
}

// splitPragmas takes the _pragma parameters out of dsn, in order.
func splitPragmas(dsn string) (string, []string) {
	path, query, found := strings.Cut(dsn, "?")
	if !found {
		return dsn, nil
	}
	var keep, pragmas []string
	for _, kv := range strings.Split(query, "&") {
		if v, ok := strings.CutPrefix(kv, "_pragma="); ok {
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
			pragmas = append(pragmas, v)
			continue
		}
		keep = append(keep, kv)
	}
	if len(keep) == 0 {
		return path, pragmas
	}
	return path + "?" + strings.Join(keep, "&"), pragmas
}

// IsUniqueViolation reports whether err is a primary key or unique
// constraint failure.
func IsUniqueViolation(err error) bool {
	var e sqlite3.Error
	if errors.As(err, &e) {
		return e.ExtendedCode == sqlite3.ErrConstraintPrimaryKey || e.ExtendedCode == sqlite3.ErrConstraintUnique
	}
	return false
}

// ExactRealText is false: this SQLite converts doubles to text with the C
// compiler's long double (80 bits on amd64), and its shortest form that it
// reads back as the same value is not always the same float64 in Go (a
// fuzz test found 5.992310449541053e+307). Readers that must be exact take
// REAL columns as values, not text (jsonrows.go).
const ExactRealText = false
