package auth

// The route -> permission table: the one place that says what every route
// of the server needs. TestEveryRouteHasARule walks the server's mux and
// fails on a pattern missing here; the middleware refuses (500) a request
// whose route has no rule rather than let it through.

// access is who may call a route before any resource check.
type access int

const (
	accPublic        access = iota + 1 // anyone, signed in or not
	accUI                              // UI: assets public, pages send anonymous users to /signin
	accAuthenticated                   // any signed-in user
	accAdmin                           // admins only
	accSelf                            // the user named by the "username" field, or an admin
	accResource                        // a permission on the request's resource
)

// target is how a route's resource is found in the request.
type target int

const (
	tNone             target = iota
	tExperiment              // experiment_id field
	tExperimentName          // experiment_name field
	tRun                     // run_id (or run_uuid) field -> the run's experiment
	tRuns                    // every run_ids (or run_id) value -> their experiments
	tLoggedModel             // {model_id} path segment -> the model's experiment
	tRegisteredModel         // name field
	tArtifactPath            // proxy path <experiment_id>/... -> that experiment
	tArtifactListPath        // proxy listing: the "path" query field, as above
	tRunInQuery              // run_id (or run_uuid) in the query string of a request whose body is data
	tTrace                   // {trace_id}/{request_id} path segment or trace_id field -> the trace's experiment
	tTraces                  // every trace_ids value -> their experiments
	tTraceStart              // trace.trace_info.trace_location's experiment (start trace)
	tTraceLocations          // every locations[].mlflow_experiment.experiment_id (search)
	tExperimentHeader        // the x-mlflow-experiment-id header (OTLP ingestion)
	tExperimentIDs           // every experiment_ids value (none: any signed-in user)
	tDataset                 // {dataset_id} path segment -> every experiment the dataset is linked to
	tDatasetLink             // tDataset, and every experiment_ids value of the request
)

// filterKind names how a search route's results are limited to what the
// caller may read.
type filterKind int

const (
	fNone                filterKind = iota
	fExperiments                    // drop unreadable experiments, refill the page
	fRegisteredModels               // drop unreadable registered models, refill
	fModelVersions                  // drop versions of unreadable registered models, refill
	fRestrictExperiments            // keep only readable experiment_ids in the request
	fDatasets                       // as fRestrictExperiments; without experiment_ids, drop datasets the caller may not read
)

// afterKind names what happens after a successful call.
type afterKind int

const (
	aNone            afterKind = iota
	aGrantExperiment           // the creator gets MANAGE on the new experiment
	aGrantModel                // the creator gets MANAGE on the new registered model
	aRenameModel               // grants follow the model's new name
	aDeleteModel               // grants of a deleted model are dropped
)

// extraKind names a check beyond the permission on the route's target.
type extraKind int

const (
	xNone          extraKind = iota
	xVersionSource           // model-versions/create: READ on what run_id, model_id and source name
	xVersionFiles            // model-versions/get-artifact: READ on the experiment holding the version's files
)

type rule struct {
	access access
	target target
	action Action
	filter filterKind
	after  afterKind
	extra  extraKind
}

func public() rule               { return rule{access: accPublic} }
func signedIn() rule             { return rule{access: accAuthenticated} }
func admin() rule                { return rule{access: accAdmin} }
func self() rule                 { return rule{access: accSelf} }
func on(t target, a Action) rule { return rule{access: accResource, target: t, action: a} }

func (r rule) then(a afterKind) rule      { r.after = a; return r }
func (r rule) filtered(f filterKind) rule { r.filter = f; return r }
func (r rule) and(x extraKind) rule       { r.extra = x; return r }

// apiPrefixes are the two mounts of MLflow's REST API.
var apiPrefixes = []string{"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}

// artifactPrefixes are the two mounts of MLflow's artifact proxy.
var artifactPrefixes = []string{"/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"}

// ownPrefix is where mltrack's own auth endpoints live.
const ownPrefix = "/api/2.0/mltrack/"

// mlflowRules are the routes under the MLflow REST prefixes, as
// "METHOD path-below-prefix". The actions are MLflow's (BEFORE_REQUEST_
// HANDLERS of mlflow/server/auth); the runs/search, model-versions/search
// and logged-models/search filters go beyond MLflow 3.6, which leaves them
// unfiltered.
var mlflowRules = map[string]rule{
	// Traces (v2 paths; the v3 ones are in mlflow3Rules): a trace's
	// permission is its experiment's.
	"PATCH traces/{request_id}/tags":  on(tTrace, ActUpdate),
	"DELETE traces/{request_id}/tags": on(tTrace, ActUpdate),
	"POST traces/delete-traces":       on(tExperiment, ActDelete),
	// MLflow 3.6's auth app has no rule for it (any signed-in user);
	// here it writes to the run, so UPDATE on the run's experiment.
	"POST traces/link-to-run": on(tRun, ActUpdate),
	// MLflow 2's trace API (deprecated, still served by 3.6).
	"POST traces":                  on(tExperiment, ActUpdate),
	"PATCH traces/{request_id}":    on(tTrace, ActUpdate),
	"GET traces/{request_id}/info": on(tTrace, ActRead),
	"GET traces":                   signedIn().filtered(fRestrictExperiments),
	// Experiments
	"POST experiments/create":                signedIn().then(aGrantExperiment),
	"GET experiments/get":                    on(tExperiment, ActRead),
	"GET experiments/get-by-name":            on(tExperimentName, ActRead),
	"POST experiments/update":                on(tExperiment, ActUpdate),
	"POST experiments/delete":                on(tExperiment, ActDelete),
	"POST experiments/restore":               on(tExperiment, ActDelete),
	"POST experiments/set-experiment-tag":    on(tExperiment, ActUpdate),
	"POST experiments/delete-experiment-tag": on(tExperiment, ActUpdate),
	"GET experiments/search":                 signedIn().filtered(fExperiments),
	"POST experiments/search":                signedIn().filtered(fExperiments),
	"GET experiments/list":                   signedIn().filtered(fExperiments),
	// Runs
	"POST runs/create":        on(tExperiment, ActUpdate),
	"GET runs/get":            on(tRun, ActRead),
	"POST runs/update":        on(tRun, ActUpdate),
	"POST runs/delete":        on(tRun, ActDelete),
	"POST runs/restore":       on(tRun, ActDelete),
	"POST runs/log-metric":    on(tRun, ActUpdate),
	"POST runs/log-parameter": on(tRun, ActUpdate),
	"POST runs/set-tag":       on(tRun, ActUpdate),
	"POST runs/delete-tag":    on(tRun, ActUpdate),
	"POST runs/log-batch":     on(tRun, ActUpdate),
	"POST runs/log-model":     on(tRun, ActUpdate),
	"POST runs/log-inputs":    on(tRun, ActUpdate),
	"POST runs/outputs":       on(tRun, ActUpdate),
	"POST runs/search":        signedIn().filtered(fRestrictExperiments),
	// Metrics
	"GET metrics/get-history":               on(tRun, ActRead),
	"GET metrics/get-history-bulk-interval": on(tRuns, ActRead),
	"GET artifacts/list":                    on(tRun, ActRead),
	// Registered models
	"POST registered-models/create":              signedIn().then(aGrantModel),
	"GET registered-models/get":                  on(tRegisteredModel, ActRead),
	"POST registered-models/rename":              on(tRegisteredModel, ActUpdate).then(aRenameModel),
	"PATCH registered-models/update":             on(tRegisteredModel, ActUpdate),
	"DELETE registered-models/delete":            on(tRegisteredModel, ActDelete).then(aDeleteModel),
	"GET registered-models/search":               signedIn().filtered(fRegisteredModels),
	"POST registered-models/set-tag":             on(tRegisteredModel, ActUpdate),
	"DELETE registered-models/delete-tag":        on(tRegisteredModel, ActUpdate),
	"POST registered-models/alias":               on(tRegisteredModel, ActUpdate),
	"DELETE registered-models/alias":             on(tRegisteredModel, ActDelete),
	"GET registered-models/alias":                on(tRegisteredModel, ActRead),
	"GET registered-models/get-latest-versions":  on(tRegisteredModel, ActRead),
	"POST registered-models/get-latest-versions": on(tRegisteredModel, ActRead),
	// Model versions (permissions are the registered model's)
	"POST model-versions/create":           on(tRegisteredModel, ActUpdate).and(xVersionSource),
	"GET model-versions/get":               on(tRegisteredModel, ActRead),
	"PATCH model-versions/update":          on(tRegisteredModel, ActUpdate),
	"DELETE model-versions/delete":         on(tRegisteredModel, ActDelete),
	"GET model-versions/search":            signedIn().filtered(fModelVersions),
	"POST model-versions/transition-stage": on(tRegisteredModel, ActUpdate),
	"GET model-versions/get-download-uri":  on(tRegisteredModel, ActRead),
	"POST model-versions/set-tag":          on(tRegisteredModel, ActUpdate),
	"DELETE model-versions/delete-tag":     on(tRegisteredModel, ActDelete),
	// Logged models (permissions are the experiment's)
	"POST logged-models":                                 on(tExperiment, ActUpdate),
	"POST logged-models/search":                          signedIn().filtered(fRestrictExperiments),
	"GET logged-models/{model_id}":                       on(tLoggedModel, ActRead),
	"PATCH logged-models/{model_id}":                     on(tLoggedModel, ActUpdate),
	"DELETE logged-models/{model_id}":                    on(tLoggedModel, ActDelete),
	"POST logged-models/{model_id}/params":               on(tLoggedModel, ActUpdate),
	"PATCH logged-models/{model_id}/tags":                on(tLoggedModel, ActUpdate),
	"DELETE logged-models/{model_id}/tags/{tag_key...}":  on(tLoggedModel, ActDelete),
	"GET logged-models/{model_id}/artifacts/directories": on(tLoggedModel, ActRead),
	// Webhooks: admins only, as MLflow's auth app (a webhook receives the
	// events of every registered model, so no model's permission covers it)
	"POST webhooks":                   admin(),
	"GET webhooks":                    admin(),
	"GET webhooks/{webhook_id}":       admin(),
	"PATCH webhooks/{webhook_id}":     admin(),
	"DELETE webhooks/{webhook_id}":    admin(),
	"POST webhooks/{webhook_id}/test": admin(),
	// Server
	"GET server-features": signedIn(),
	// MLflow's auth app: users and permissions
	"POST users/create":                           admin(),
	"GET users/get":                               self(),
	"PATCH users/update-password":                 self(),
	"PATCH users/update-admin":                    admin(),
	"DELETE users/delete":                         admin(),
	"POST experiments/permissions/create":         on(tExperiment, ActManage),
	"GET experiments/permissions/get":             on(tExperiment, ActManage),
	"PATCH experiments/permissions/update":        on(tExperiment, ActManage),
	"DELETE experiments/permissions/delete":       on(tExperiment, ActManage),
	"POST registered-models/permissions/create":   on(tRegisteredModel, ActManage),
	"GET registered-models/permissions/get":       on(tRegisteredModel, ActManage),
	"PATCH registered-models/permissions/update":  on(tRegisteredModel, ActManage),
	"DELETE registered-models/permissions/delete": on(tRegisteredModel, ActManage),
	// The catch-all that answers 404/405 for unknown API paths: only
	// signed-in callers learn which endpoints exist.
	"": signedIn(),
}

// mlflow3Prefixes are the two mounts of MLflow 3's endpoints.
var mlflow3Prefixes = []string{"/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/"}

// mlflow3Rules are the routes under /api/3.0/mlflow/ (MLflow's auth asks
// the same of its trace and assessment handlers: read to read, update to
// write, delete to delete traces).
var mlflow3Rules = map[string]rule{
	"":                                   signedIn(), // the catch-all answers ENDPOINT_NOT_FOUND
	"POST traces":                        on(tTraceStart, ActUpdate),
	"GET traces/{trace_id}":              on(tTrace, ActRead),
	"GET traces/get":                     on(tTrace, ActRead),
	"GET traces/batchGet":                on(tTraces, ActRead),
	"POST traces/search":                 on(tTraceLocations, ActRead),
	"PATCH traces/{trace_id}/tags":       on(tTrace, ActUpdate),
	"DELETE traces/{trace_id}/tags":      on(tTrace, ActUpdate),
	"POST traces/delete-traces":          on(tExperiment, ActDelete),
	"POST traces/{trace_id}/assessments": on(tTrace, ActUpdate),
	"GET traces/{trace_id}/assessments/{assessment_id}":    on(tTrace, ActRead),
	"PATCH traces/{trace_id}/assessments/{assessment_id}":  on(tTrace, ActUpdate),
	"DELETE traces/{trace_id}/assessments/{assessment_id}": on(tTrace, ActUpdate),
	// Evaluation datasets: MLflow 3.6's auth app checks none; mltrack checks
	// a dataset as the experiments it is linked to (one linked to none is
	// open to any signed-in user, as in MLflow). Scorers: their experiment
	// (MLflow 3.6's scorer-level grants are not consulted).
	"POST datasets/create":                          on(tExperimentIDs, ActUpdate),
	"POST datasets/search":                          signedIn().filtered(fDatasets),
	"GET datasets/search":                           signedIn().filtered(fDatasets),
	"GET datasets/{dataset_id}":                     on(tDataset, ActRead),
	"DELETE datasets/{dataset_id}":                  on(tDataset, ActDelete),
	"PATCH datasets/{dataset_id}/tags":              on(tDataset, ActUpdate),
	"DELETE datasets/{dataset_id}/tags/{key...}":    on(tDataset, ActUpdate),
	"POST datasets/{dataset_id}/records":            on(tDataset, ActUpdate),
	"GET datasets/{dataset_id}/records":             on(tDataset, ActRead),
	"GET datasets/{dataset_id}/experiment-ids":      on(tDataset, ActRead),
	"POST datasets/{dataset_id}/add-experiments":    on(tDatasetLink, ActUpdate),
	"POST datasets/{dataset_id}/remove-experiments": on(tDatasetLink, ActUpdate),
	"POST scorers/register":                         on(tExperiment, ActUpdate),
	"GET scorers/list":                              on(tExperiment, ActRead),
	"GET scorers/versions":                          on(tExperiment, ActRead),
	"GET scorers/get":                               on(tExperiment, ActRead),
	"DELETE scorers/delete":                         on(tExperiment, ActDelete),
}

// artifactRules are the artifact proxy's routes below its prefixes. As in
// MLflow, a download needs read, an upload update and a delete manage on
// the experiment whose ID starts the artifact path.
var artifactRules = map[string]rule{
	"PUT artifacts/{path...}":     on(tArtifactPath, ActUpdate),
	"GET artifacts/{path...}":     on(tArtifactPath, ActRead),
	"DELETE artifacts/{path...}":  on(tArtifactPath, ActManage),
	"GET artifacts":               on(tArtifactListPath, ActRead),
	"POST mpu/create/{path...}":   on(tArtifactPath, ActUpdate),
	"POST mpu/complete/{path...}": on(tArtifactPath, ActUpdate),
	"POST mpu/abort/{path...}":    on(tArtifactPath, ActUpdate),
}

// otherRules are the remaining routes, as full mux patterns.
var otherRules = map[string]rule{
	"GET /health":                           public(),
	"GET /version":                          public(),
	"GET /metrics":                          admin(), // Prometheus: scrape with an admin's Basic credentials or token
	"GET /ready":                            public(),
	"POST /v1/traces":                       on(tExperimentHeader, ActUpdate),
	"/":                                     {access: accUI},
	"GET /get-artifact":                     on(tRun, ActRead),
	"GET /model-versions/get-artifact":      on(tRegisteredModel, ActRead).and(xVersionFiles),
	"GET /signin":                           public(),
	"POST /signin":                          public(),
	"GET /signup":                           admin(),
	"POST /signup":                          admin(),
	"POST " + ownPrefix + "auth/login":      public(),
	"POST " + ownPrefix + "auth/logout":     public(),
	"GET " + ownPrefix + "auth/whoami":      signedIn(),
	"POST " + ownPrefix + "tokens/create":   signedIn(),
	"GET " + ownPrefix + "tokens/list":      signedIn(),
	"DELETE " + ownPrefix + "tokens/revoke": signedIn(),
	"GET " + ownPrefix + "users/list":       admin(),
	// MLflow's UI-only routes, which exist under /ajax-api/ only. MLflow 3.6
	// checks no permission for a logged model's file; here it is READ on the
	// model's experiment, as for its listing. Dataset summaries are limited
	// to the readable experiments, as runs/search is.
	"GET /ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files": on(tLoggedModel, ActRead),
	"GET /ajax-api/2.0/mlflow/get-trace-artifact":                       on(tTrace, ActRead),
	"GET /ajax-api/2.0/mlflow/metrics/get-history-bulk":                 on(tRuns, ActRead),
	"POST /ajax-api/2.0/mlflow/experiments/search-datasets":             signedIn().filtered(fRestrictExperiments),
	"POST /ajax-api/2.0/mlflow/upload-artifact":                         on(tRunInQuery, ActUpdate),
	"POST /ajax-api/2.0/mlflow/runs/create-promptlab-run":               on(tExperiment, ActUpdate),
	// The UI's downsampled histories: READ on every run's experiment, as
	// get-history-bulk-interval.
	"GET /api/2.0/mltrack/metrics/get-history-downsampled":      on(tRuns, ActRead),
	"GET /ajax-api/2.0/mltrack/metrics/get-history-downsampled": on(tRuns, ActRead),
	// A webhook's delivery log: admins, as the webhooks themselves.
	"GET /api/2.0/mltrack/webhooks/{webhook_id}/deliveries":      admin(),
	"GET /ajax-api/2.0/mltrack/webhooks/{webhook_id}/deliveries": admin(),
}

// buildRules expands the tables into one map keyed by mux pattern.
func buildRules() map[string]rule {
	out := map[string]rule{}
	expand := func(prefixes []string, rules map[string]rule) {
		for k, r := range rules {
			for _, p := range prefixes {
				if k == "" {
					out[p] = r
					continue
				}
				method, path, _ := cutSpace(k)
				out[method+" "+p+path] = r
			}
		}
	}
	expand(apiPrefixes, mlflowRules)
	expand(artifactPrefixes, artifactRules)
	expand(mlflow3Prefixes, mlflow3Rules)
	for k, r := range otherRules {
		out[k] = r
	}
	return out
}

func cutSpace(s string) (before, after string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
