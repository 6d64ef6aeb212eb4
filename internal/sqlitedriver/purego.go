//go:build !cgosqlite

package sqlitedriver

import (
	"errors"

	"modernc.org/sqlite" // registers "sqlite"
	lib "modernc.org/sqlite/lib"
)

// Kind names the driver of this build, for the start-up log.
const Kind = "pure Go (modernc.org/sqlite)"

// IsUniqueViolation reports whether err is a primary key or unique
// constraint failure.
func IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		c := e.Code()
		return c == lib.SQLITE_CONSTRAINT_PRIMARYKEY || c == lib.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// ExactRealText is true: this SQLite writes doubles as text that reads back
// as the same float64 (FuzzJSONRows in sqlstore checks it).
const ExactRealText = true
