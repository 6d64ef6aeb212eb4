package api

import (
	"net/http"
	"path"
	"strings"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/mlflow"
)

// The endpoints that read artifacts through an entity rather than by proxy
// path: a run's artifact listing and download, a model version's files,
// and a logged model's listing. They resolve the entity's artifact URI with
// API.Artifacts, which serves only the roots the operator configured.

func (a *API) artifactLinkRoutes() []route {
	return []route{
		{"GET", "artifacts/list", wrap(a.listRunArtifacts)},
		{"GET", "logged-models/{model_id}/artifacts/directories", wrap(a.listLoggedModelArtifacts)},
	}
}

// RegisterDownloads mounts MLflow's download endpoints, which live outside
// /api/: /get-artifact (a run's file) and /model-versions/get-artifact.
func (a *API) RegisterDownloads(mux *http.ServeMux) {
	mux.HandleFunc("GET /get-artifact", a.getRunArtifact)
	mux.HandleFunc("GET /model-versions/get-artifact", a.getModelVersionArtifact)
}

// listing is MLflow's ListArtifacts answer.
type listing struct {
	Files   []artifactFileInfo `json:"files,omitempty"`
	RootURI string             `json:"root_uri"`
}

// listUnder lists directory dir (already checked with
// artifact.ValidatePath) below the artifact URI root, naming files by their
// path relative to root as MLflow does.
func (a *API) listUnder(r *http.Request, root, dir string) (any, error) {
	out := listing{RootURI: root}
	repo, base, err := a.resolve(root)
	if err != nil {
		return nil, err
	}
	infos, err := repo.List(r.Context(), artifact.JoinPath(base, dir))
	if err != nil {
		return nil, fromArtifactStore(err)
	}
	for _, fi := range infos {
		out.Files = append(out.Files, artifactFileInfo{Path: artifact.JoinPath(dir, path.Base(fi.Path)), IsDir: fi.IsDir, FileSize: fi.FileSize})
	}
	return out, nil
}

func (a *API) resolve(uri string) (artifact.Repository, string, error) {
	if a.Artifacts == nil {
		return nil, "", mlflow.InvalidParam("this server serves no artifacts")
	}
	return a.Artifacts.Resolve(uri)
}

func (a *API) listRunArtifacts(r *http.Request) (any, error) {
	p, id, err := readRunParams(r)
	if err != nil {
		return nil, err
	}
	dir, err := p.str("path")
	if err != nil {
		return nil, err
	}
	// As MLflow, the path is checked before the run is looked up.
	if dir, err = artifact.ValidatePath(dir); err != nil {
		return nil, err
	}
	run, err := a.Tracking.GetRun(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if err := checkRunFolder(run); err != nil {
		return nil, err
	}
	return a.listUnder(r, run.Info.ArtifactURI, dir)
}

func (a *API) listLoggedModelArtifacts(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	dir, err := p.str("artifact_directory_path")
	if err != nil {
		return nil, err
	}
	if dir, err = artifact.ValidatePath(dir); err != nil {
		return nil, err
	}
	m, err := a.LoggedModels.GetLoggedModel(r.Context(), r.PathValue("model_id"))
	if err != nil {
		return nil, err
	}
	if err := checkLoggedModelFolder(m); err != nil {
		return nil, err
	}
	return a.listUnder(r, m.Info.ArtifactURI, dir)
}

// filePathParam reads and checks the query's path of a file download, as
// MLflow does before it looks up the run or version: missing or the root
// itself is a missing parameter, a path that could leave the root is
// "Invalid path".
func filePathParam(r *http.Request, name string) (string, error) {
	p, err := artifact.ValidatePath(r.URL.Query().Get(name))
	if err == nil && p == "" {
		err = mlflow.MissingParam(name)
	}
	return p, err
}

// download streams the file p (checked by filePathParam) below the
// artifact URI root.
func (a *API) download(w http.ResponseWriter, r *http.Request, root, p string) {
	repo, base, err := a.resolve(root)
	if err != nil {
		writeError(w, r, err)
		return
	}
	serveArtifactFile(w, r, repo, artifact.JoinPath(base, p))
}

func (a *API) getRunArtifact(w http.ResponseWriter, r *http.Request) {
	file, err := filePathParam(r, "path")
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := readParams(r)
	if err == nil {
		var id string
		if id, err = runID(p); err == nil {
			var run *mlflow.Run
			if run, err = a.Tracking.GetRun(r.Context(), id); err == nil {
				if err = checkRunFolder(run); err == nil {
					a.download(w, r, run.Info.ArtifactURI, file)
					return
				}
			}
		}
	}
	writeError(w, r, err)
}

func (a *API) getModelVersionArtifact(w http.ResponseWriter, r *http.Request) {
	file, err := filePathParam(r, "path")
	if err != nil {
		writeError(w, r, err)
		return
	}
	_, name, version, err := nameAndVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	uri, err := a.Registry.GetModelVersionDownloadURI(r.Context(), name, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if strings.HasPrefix(uri, "models:/") || strings.HasPrefix(uri, "runs:/") {
		writeError(w, r, mlflow.InvalidParam("model version %s/%d has no resolvable storage location (%s)", name, version, uri))
		return
	}
	a.download(w, r, uri, file)
}

// checkRunFolder refuses to serve a run whose artifact URI is not its own
// folder (<location>/<run_id>/artifacts by its path). An older mltrack
// built run URIs by string concatenation, so a location with a query or
// fragment ("mlflow-artifacts:/1?") gave "mlflow-artifacts:/1?/<run>/artifacts",
// whose path is experiment 1's whole folder.
func checkRunFolder(run *mlflow.Run) error {
	if mlflow.IsEntityFolder(run.Info.ArtifactURI, "", run.Info.RunID, mlflow.RunArtifactsFolder) {
		return nil
	}
	return notOwnFolder("run", run.Info.RunID, run.Info.ArtifactURI)
}

// checkLoggedModelFolder is checkRunFolder for a logged model
// (<location>/models/<model_id>/artifacts).
func checkLoggedModelFolder(m *mlflow.LoggedModel) error {
	if mlflow.IsEntityFolder(m.Info.ArtifactURI, "", "models", m.Info.ModelID, mlflow.RunArtifactsFolder) {
		return nil
	}
	return notOwnFolder("logged model", m.Info.ModelID, m.Info.ArtifactURI)
}

func notOwnFolder(kind, id, uri string) error {
	return mlflow.InvalidParam("The artifact URI '%s' of %s %s is not its own folder (its path must end with the %s's ID and 'artifacts'); mltrack does not serve it", uri, kind, id, kind)
}
