package store_test

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

func TestIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"sentinel", fmt.Errorf("store: get run: %w", store.ErrUnavailable), true},
		{"connection refused", fmt.Errorf("store: begin: %w", refused), true},
		{"connection reset", fmt.Errorf("store: x: %w", syscall.ECONNRESET), true},
		{"unexpected EOF", fmt.Errorf("store: x: %w", io.ErrUnexpectedEOF), true},
		{"bad conn", fmt.Errorf("store: x: %w", driver.ErrBadConn), true},
		{"admin shutdown", fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "23505"}), false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"not found", mlflow.NotFound("no run"), false},
		{"plain", errors.New("boom"), false},
		{"io.EOF alone", io.EOF, false},
	}
	for _, c := range cases {
		if got := store.IsUnavailable(c.err); got != c.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
		wrapped := store.Unavailable(c.err)
		if got := errors.Is(wrapped, store.ErrUnavailable); got != c.want {
			t.Errorf("%s: errors.Is(Unavailable(err), ErrUnavailable) = %v, want %v", c.name, got, c.want)
		}
		if c.err != nil && !errors.Is(wrapped, c.err) {
			t.Errorf("%s: Unavailable lost the cause", c.name)
		}
	}
}
