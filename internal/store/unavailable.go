package store

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
)

// ErrUnavailable marks errors caused by the database being unreachable
// (refused or dropped connections, a server shutting down or starting up).
// They are temporary: the API answers them with 503 TEMPORARILY_UNAVAILABLE,
// which MLflow's client retries, and database/sql reconnects on its own once
// the database is back.
var ErrUnavailable = errors.New("store: database temporarily unavailable")

// IsUnavailable reports whether err is, or is caused by, the database being
// unreachable. It recognises ErrUnavailable and the underlying causes the
// SQL drivers return, without importing them: network errors, a dropped
// connection, and SQLSTATEs of PostgreSQL's connection-exception class (08),
// shutdown and start-up (57P01, 57P02, 57P03) and too many connections
// (53300). It is the one place where that classification is made.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, net.ErrClosed) {
		return true
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		switch code := state.SQLState(); {
		case len(code) == 5 && code[:2] == "08", code == "57P01", code == "57P02", code == "57P03", code == "53300":
			return true
		}
	}
	var ne *net.OpError
	return errors.As(err, &ne)
}

// Unavailable wraps err with ErrUnavailable when it is caused by an
// unreachable database, and returns it unchanged otherwise.
func Unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !IsUnavailable(err) {
		return err
	}
	return &unavailableError{err}
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string {
	return "database temporarily unavailable: " + e.err.Error()
}
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }
