package artifact_test

import (
	"testing"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
)

func TestS3Conformance(t *testing.T) {
	srv := artifacttest.StartVersityGW(t)
	t.Run("bucket-root", func(t *testing.T) {
		artifacttest.Run(t, func(t *testing.T) artifact.Repository { return srv.NewS3Repo(t, "") })
	})
	t.Run("prefix", func(t *testing.T) {
		artifacttest.Run(t, func(t *testing.T) artifact.Repository { return srv.NewS3Repo(t, "mlartifacts/team") })
	})
}
