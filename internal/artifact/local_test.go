package artifact_test

import (
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
)

func newLocal(t *testing.T) artifact.Repository {
	t.Helper()
	repo, err := artifact.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	return repo
}

func TestLocalConformance(t *testing.T) {
	artifacttest.Run(t, newLocal)
}
