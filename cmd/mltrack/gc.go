package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mltrack/mltrack/internal/gc"
	"github.com/mltrack/mltrack/internal/server"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// runGC is `mltrack gc`: permanently remove runs, experiments and logged
// models in the deleted lifecycle stage, with their artifacts, as
// `mlflow gc` does. The plan goes to stdout with --dry-run; progress goes to
// stderr; a summary goes to stdout.
func runGC(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mltrack gc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	olderThan := fs.String("older-than", "", "only what was deleted longer ago than this: #d#h#m#s, e.g. 30d, 1d2h3m4s, 1.5h")
	backend := fs.String("backend-store-uri", server.Getenv("MLFLOW_BACKEND_STORE_URI", "sqlite:///mlflow.db"), "database: sqlite:///path or postgresql://user@host/db")
	dest := fs.String("artifacts-destination", server.Getenv("MLFLOW_ARTIFACTS_DESTINATION", "./mlartifacts"), "the server's --artifacts-destination, where mlflow-artifacts:/ URIs live")
	runIDs := fs.String("run-ids", "", "comma-separated run ids (default: every deleted run)")
	expIDs := fs.String("experiment-ids", "", "comma-separated experiment ids, removed with all their runs and logged models (default: every deleted experiment)")
	modelIDs := fs.String("logged-model-ids", "", "comma-separated logged model ids (default: every deleted logged model)")
	dryRun := fs.Bool("dry-run", false, "print what would be removed and change nothing")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: mltrack gc [flags]

Permanently removes runs, experiments and logged models in the deleted
lifecycle stage, with their metrics, params, tags, inputs and artifacts.
Without ids, everything deleted (older than --older-than) goes; with ids of
any kind, only the named things go.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	opts := gc.Options{
		RunIDs:         server.SplitList(*runIDs),
		ExperimentIDs:  server.SplitList(*expIDs),
		LoggedModelIDs: server.SplitList(*modelIDs),
	}
	if *olderThan != "" {
		d, err := gc.ParseOlderThan(*olderThan)
		if err != nil {
			return err
		}
		opts.OlderThan = d
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := sqlstore.Open(ctx, *backend, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	start := time.Now()
	plan, err := gc.MakePlan(ctx, st, opts)
	if err != nil {
		return err
	}
	if *dryRun {
		gc.Describe(stdout, plan)
		return nil
	}
	runs, models, exps := plan.Counts()
	fmt.Fprintf(stderr, "mltrack gc: removing %d runs, %d logged models, %d experiments\n", runs, models, exps)
	res := gc.Execute(ctx, st, &gc.URIResolver{Destination: *dest, Open: gc.OpenRoot}, plan, stderr)
	fmt.Fprintf(stdout, "%d of %d removed in %v\n", res.Removed, len(plan.Items), time.Since(start).Round(time.Millisecond))
	if len(res.Failed) > 0 {
		return fmt.Errorf("%d not removed (a later gc retries them): %w", len(res.Failed), errors.Join(res.Failed...))
	}
	return nil
}
