package sqlstore_test

import (
	"testing"

	"github.com/mltrack/mltrack/internal/store/storetest"
)

func TestTracesSQLite(t *testing.T) {
	storetest.RunTraces(t, func(t *testing.T) storetest.TraceStore { return openSQLite(t) })
}

func TestTracesPostgres(t *testing.T) {
	storetest.RunTraces(t, func(t *testing.T) storetest.TraceStore { return openPostgres(t) })
}
