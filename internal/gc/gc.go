// Package gc permanently removes what users deleted: runs, experiments and
// logged models in the deleted lifecycle stage, with their rows and their
// artifacts, as `mlflow gc` does (and, unlike it, also logged models of
// removed experiments and artifacts of any store mltrack can open).
package gc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// Store is what gc needs from the tracking store (sqlstore.Store has it).
type Store interface {
	GCRunsByID(ctx context.Context, ids []string) ([]sqlstore.GCRun, error)
	GCDeletedRuns(ctx context.Context, before int64) ([]sqlstore.GCRun, error)
	GCRunsOfExperiments(ctx context.Context, experimentIDs []string) ([]sqlstore.GCRun, error)
	GCExperimentsByID(ctx context.Context, ids []string) ([]sqlstore.GCExperiment, error)
	GCDeletedExperiments(ctx context.Context, before int64) ([]sqlstore.GCExperiment, error)
	GCLoggedModelsByID(ctx context.Context, ids []string) ([]sqlstore.GCLoggedModel, error)
	GCDeletedLoggedModels(ctx context.Context, before int64) ([]sqlstore.GCLoggedModel, error)
	GCLoggedModelsOfExperiments(ctx context.Context, experimentIDs []string) ([]sqlstore.GCLoggedModel, error)
	HardDeleteRun(ctx context.Context, id string) error
	HardDeleteLoggedModel(ctx context.Context, id string) error
	HardDeleteExperiment(ctx context.Context, id string) error
}

// Options selects what to remove, as `mlflow gc`'s flags do. Without ids,
// everything in the deleted stage (older than OlderThan) goes. With ids of
// any kind, only the named things go (with the runs and models of named
// experiments): unlike `mlflow gc`, where --run-ids alone also removes every
// deleted experiment and logged model, which surprises and cannot be undone.
type Options struct {
	OlderThan      time.Duration
	RunIDs         []string
	ExperimentIDs  []string
	LoggedModelIDs []string
	// Now is the reference time for OlderThan (time.Now when zero).
	Now time.Time
}

// olderThanRe is MLflow's #d#h#m#s format, each number possibly fractional.
var olderThanRe = regexp.MustCompile(`^(?:([.\d]+?)d)?(?:([.\d]+?)h)?(?:([.\d]+?)m)?(?:([.\d]+?)s)?$`)

// ParseOlderThan parses MLflow's --older-than format: 1d2h3m4s, 30d, 1.5h.
func ParseOlderThan(s string) (time.Duration, error) {
	m := olderThanRe.FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, fmt.Errorf("could not parse any time information from %q; examples of valid strings: '8h', '2d8h5m20s', '2m4s'", s)
	}
	units := []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second}
	var d float64
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		v, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, fmt.Errorf("could not parse %q in %q", m[i+1], s)
		}
		d += v * float64(u)
	}
	return time.Duration(d), nil
}

// Item is one thing gc removes.
type Item struct {
	Kind         string // "run", "logged model" or "experiment"
	ID           string
	ExperimentID string
	// ArtifactURIs are removed before the rows (none for an experiment whose
	// location is not its own folder).
	ArtifactURIs []string
	// Kept says why the item's artifact URI is left in place although the
	// item goes: it is not the item's own folder (a run's path must end
	// with <run_id>/artifacts, a logged model's with
	// models/<model_id>/artifacts), so removing it could remove someone
	// else's files. An older mltrack concatenated run URIs onto locations
	// with a query or fragment: "mlflow-artifacts:/1?/<run>/artifacts" is
	// experiment 1's whole folder by its path.
	Kept string
	// WithExperiment marks a run or logged model that is removed because
	// its experiment is (whatever its own stage): its rows go in the
	// experiment's transaction, which comes later in the plan.
	WithExperiment bool
}

// Plan is what a gc run removes, in order: runs, then logged models, then
// experiments (whose runs and models come before them).
type Plan struct {
	Items []Item
}

// Counts is the number of runs, logged models and experiments in the plan.
func (p *Plan) Counts() (runs, models, experiments int) {
	for _, it := range p.Items {
		switch it.Kind {
		case "run":
			runs++
		case "logged model":
			models++
		case "experiment":
			experiments++
		}
	}
	return
}

// ErrRefused is wrapped by every refusal to plan: an id that is not
// deleted, not old enough, or unknown.
var ErrRefused = errors.New("gc: refused")

// MakePlan selects what to remove and checks explicit ids as MLflow does:
// a named run, experiment or logged model must exist, be deleted, and be
// older than OlderThan, or nothing is removed at all.
func MakePlan(ctx context.Context, st Store, o Options) (*Plan, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	var before int64 // 0: no age limit
	if o.OlderThan > 0 {
		before = now.Add(-o.OlderThan).UnixMilli()
	}
	old := func(t int64) bool { return before == 0 || (t != 0 && t < before) }
	explicit := len(o.RunIDs)+len(o.ExperimentIDs)+len(o.LoggedModelIDs) > 0

	// Experiments first: their runs and models join the lists.
	var exps []sqlstore.GCExperiment
	var err error
	if len(o.ExperimentIDs) > 0 {
		exps, err = st.GCExperimentsByID(ctx, o.ExperimentIDs)
		if err != nil {
			return nil, err
		}
		if err := checkExplicit(o.ExperimentIDs, len(exps), func(i int) (string, string, bool) {
			return exps[i].ID, exps[i].LifecycleStage, old(exps[i].LastUpdateTime)
		}, "Experiment"); err != nil {
			return nil, err
		}
	} else if !explicit {
		if exps, err = st.GCDeletedExperiments(ctx, before); err != nil {
			return nil, err
		}
	}
	expIDs := make([]string, len(exps))
	for i, e := range exps {
		expIDs[i] = e.ID
	}

	var runs []sqlstore.GCRun
	if len(o.RunIDs) > 0 {
		runs, err = st.GCRunsByID(ctx, o.RunIDs)
		if err != nil {
			return nil, err
		}
		if err := checkExplicit(o.RunIDs, len(runs), func(i int) (string, string, bool) {
			return runs[i].ID, runs[i].LifecycleStage, old(runs[i].DeletedTime)
		}, "Run"); err != nil {
			return nil, err
		}
	} else if !explicit {
		if runs, err = st.GCDeletedRuns(ctx, before); err != nil {
			return nil, err
		}
	}
	expRuns, err := st.GCRunsOfExperiments(ctx, expIDs)
	if err != nil {
		return nil, err
	}

	var models []sqlstore.GCLoggedModel
	if len(o.LoggedModelIDs) > 0 {
		models, err = st.GCLoggedModelsByID(ctx, o.LoggedModelIDs)
		if err != nil {
			return nil, err
		}
		if err := checkExplicit(o.LoggedModelIDs, len(models), func(i int) (string, string, bool) {
			return models[i].ID, models[i].LifecycleStage, old(models[i].LastUpdateTime)
		}, "Logged model"); err != nil {
			return nil, err
		}
	} else if !explicit {
		if models, err = st.GCDeletedLoggedModels(ctx, before); err != nil {
			return nil, err
		}
	}
	expModels, err := st.GCLoggedModelsOfExperiments(ctx, expIDs)
	if err != nil {
		return nil, err
	}

	p := &Plan{}
	seen := map[string]bool{}
	add := func(it Item) {
		if k := it.Kind + "/" + it.ID; !seen[k] {
			seen[k] = true
			p.Items = append(p.Items, it)
		}
	}
	for i, r := range append(runs, expRuns...) {
		it := Item{Kind: "run", ID: r.ID, ExperimentID: r.ExperimentID, WithExperiment: i >= len(runs)}
		it.ArtifactURIs, it.Kept = ownURI(r.ArtifactURI, mlflow.IsEntityFolder(r.ArtifactURI, "", r.ID, mlflow.RunArtifactsFolder),
			"its path must end with <run_id>/artifacts")
		add(it)
	}
	for i, m := range append(models, expModels...) {
		it := Item{Kind: "logged model", ID: m.ID, ExperimentID: m.ExperimentID, WithExperiment: i >= len(models)}
		it.ArtifactURIs, it.Kept = ownURI(m.ArtifactLocation, mlflow.IsEntityFolder(m.ArtifactLocation, "", "models", m.ID, mlflow.RunArtifactsFolder),
			"its path must end with models/<model_id>/artifacts")
		add(it)
	}
	for _, e := range exps {
		it := Item{Kind: "experiment", ID: e.ID, ExperimentID: e.ID}
		// The experiment's own folder (mlflow-artifacts:/7, s3://b/root/7)
		// goes too; a location shared with others (a bare bucket) stays.
		if ownFolder(e.ArtifactLocation, e.ID) {
			it.ArtifactURIs = []string{e.ArtifactLocation}
		}
		add(it)
	}
	return p, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// ownURI is the artifact URI to remove when it is the item's own folder,
// else none and why.
func ownURI(uri string, own bool, shape string) ([]string, string) {
	switch {
	case uri == "":
		return nil, ""
	case own:
		return []string{uri}, ""
	}
	return nil, "artifacts at " + uri + " kept: not the item's own folder (" + shape + ")"
}

// ownFolder reports whether an experiment's artifact location is a folder
// named after the experiment, as mltrack and MLflow make them: the last
// segment of its path (not of its text: "mlflow-artifacts:/1#/7" is
// folder 1) is the ID, and on the artifact proxy it is the whole path
// (mlflow-artifacts:/7, not mlflow-artifacts:/1/7 inside experiment 1).
func ownFolder(loc, id string) bool {
	if id == "0" {
		return false
	}
	segs, ok := mlflow.URIPathSegments(loc)
	if !ok || len(segs) == 0 || segs[len(segs)-1] != id {
		return false
	}
	return mlflow.URIScheme(loc) != "mlflow-artifacts" || len(segs) == 1
}

// checkExplicit checks user-named ids: all found, all deleted, all old enough.
func checkExplicit(ids []string, found int, at func(i int) (id, stage string, old bool), what string) error {
	have := map[string]bool{}
	var active, young []string
	for i := 0; i < found; i++ {
		id, stage, old := at(i)
		have[id] = true
		if stage != "deleted" {
			active = append(active, id)
		} else if !old {
			young = append(young, id)
		}
	}
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("%w: %s %s not found", ErrRefused, what, strings.Join(missing, ", "))
	case len(active) > 0:
		return fmt.Errorf("%w: %s %s not in the deleted lifecycle stage; only deleted ones can be removed permanently", ErrRefused, what, strings.Join(active, ", "))
	case len(young) > 0:
		return fmt.Errorf("%w: %s %s not older than the required age", ErrRefused, what, strings.Join(young, ", "))
	}
	return nil
}

// Repository is the part of an artifact repository gc uses. Delete removes
// the file or tree at path and treats a missing path as done.
type Repository interface {
	Delete(ctx context.Context, path string) error
}

// Resolver finds the repository holding an artifact URI and the path of the
// URI inside it.
type Resolver interface {
	Resolve(ctx context.Context, uri string) (Repository, string, error)
}

// Result sums up an Execute.
type Result struct {
	Removed int
	// Failed lists items left in place because removing their artifacts or
	// rows failed; a later gc retries them.
	Failed []error
}

// Execute removes the plan's items one by one: artifacts first (an item
// whose artifacts cannot be removed keeps its rows, so a later gc can try
// again), then its rows in one transaction. It carries on past failures
// and reports them in the result, and writes its progress to progress.
func Execute(ctx context.Context, st Store, res Resolver, p *Plan, progress io.Writer) Result {
	var out Result
	total := len(p.Items)
	width := len(strconv.Itoa(total))
	for i, it := range p.Items {
		if ctx.Err() != nil {
			out.Failed = append(out.Failed, ctx.Err())
			break
		}
		prefix := fmt.Sprintf("[%*d/%d] %s %s", width, i+1, total, it.Kind, it.ID)
		if it.Kept != "" {
			fmt.Fprintf(progress, "%s: %s\n", prefix, it.Kept)
		}
		if err := deleteArtifacts(ctx, res, it); err != nil {
			fmt.Fprintf(progress, "%s: artifacts not removed, kept: %v\n", prefix, err)
			out.Failed = append(out.Failed, fmt.Errorf("%s %s: %w", it.Kind, it.ID, err))
			continue
		}
		var err error
		switch {
		case it.WithExperiment:
			// Its rows go with the experiment's, later in the plan.
		case it.Kind == "run":
			err = st.HardDeleteRun(ctx, it.ID)
		case it.Kind == "logged model":
			err = st.HardDeleteLoggedModel(ctx, it.ID)
		case it.Kind == "experiment":
			err = st.HardDeleteExperiment(ctx, it.ID)
		}
		if err != nil {
			fmt.Fprintf(progress, "%s: not removed: %v\n", prefix, err)
			out.Failed = append(out.Failed, fmt.Errorf("%s %s: %w", it.Kind, it.ID, err))
			continue
		}
		out.Removed++
		fmt.Fprintf(progress, "%s: removed\n", prefix)
	}
	return out
}

func deleteArtifacts(ctx context.Context, res Resolver, it Item) error {
	for _, uri := range it.ArtifactURIs {
		repo, path, err := res.Resolve(ctx, uri)
		if err != nil {
			return fmt.Errorf("artifact location %s: %w", uri, err)
		}
		if err := repo.Delete(ctx, path); err != nil {
			return fmt.Errorf("delete %s: %w", uri, err)
		}
	}
	return nil
}

// Describe writes the plan, one line per item, for --dry-run.
func Describe(w io.Writer, p *Plan) {
	for _, it := range p.Items {
		line := "would remove " + it.Kind + " " + it.ID
		if it.Kind != "experiment" {
			line += " (experiment " + it.ExperimentID + ")"
		}
		if len(it.ArtifactURIs) > 0 {
			line += " and its artifacts at " + strings.Join(it.ArtifactURIs, ", ")
		}
		if it.Kept != "" {
			line += "; " + it.Kept
		}
		fmt.Fprintln(w, line)
	}
	r, m, e := p.Counts()
	fmt.Fprintf(w, "%d runs, %d logged models, %d experiments would be removed\n", r, m, e)
}
