package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// registryRoutes lists the registered-models/ and model-versions/ endpoints.
// The methods are MLflow's; Register answers 405 for the others (a search
// by POST, as MLflow does).
func (a *API) registryRoutes() []route {
	rs := []route{
		{"POST", "registered-models/create", wrap(a.notifying(a.createRegisteredModel))},
		{"GET", "registered-models/get", wrap(a.getRegisteredModel)},
		{"POST", "registered-models/rename", wrap(a.renameRegisteredModel)},
		{"PATCH", "registered-models/update", wrap(a.updateRegisteredModel)},
		{"DELETE", "registered-models/delete", wrap(a.deleteRegisteredModel)},
		{"GET", "registered-models/search", wrap(a.searchRegisteredModels)},
		{"POST", "registered-models/set-tag", wrap(a.notifying(a.setRegisteredModelTag))},
		{"DELETE", "registered-models/delete-tag", wrap(a.notifying(a.deleteRegisteredModelTag))},
		{"POST", "registered-models/alias", wrap(a.notifying(a.setRegisteredModelAlias))},
		{"DELETE", "registered-models/alias", wrap(a.notifying(a.deleteRegisteredModelAlias))},
		{"GET", "registered-models/alias", wrap(a.getModelVersionByAlias)},

		{"POST", "model-versions/create", wrap(a.notifying(a.createModelVersion))},
		{"GET", "model-versions/get", wrap(a.getModelVersion)},
		{"PATCH", "model-versions/update", wrap(a.updateModelVersion)},
		{"DELETE", "model-versions/delete", wrap(a.deleteModelVersion)},
		{"GET", "model-versions/search", wrap(a.searchModelVersions)},
		{"POST", "model-versions/transition-stage", wrap(a.transitionModelVersionStage)},
		{"GET", "model-versions/get-download-uri", wrap(a.getModelVersionDownloadURI)},
		{"POST", "model-versions/set-tag", wrap(a.notifying(a.setModelVersionTag))},
		{"DELETE", "model-versions/delete-tag", wrap(a.notifying(a.deleteModelVersionTag))},
	}
	return append(rs, getAndPost("registered-models/get-latest-versions", a.getLatestVersions)...)
}

// readRegistryParams reads a request's fields; a DELETE reads them from its
// JSON body only, as MLflow's registry does (query fields are ignored).
func readRegistryParams(r *http.Request) (*params, error) {
	if r.Method == http.MethodDelete && r.ContentLength <= 0 {
		return &params{body: map[string]json.RawMessage{}}, nil
	}
	return readParams(r)
}

type registeredModelResponse struct {
	RegisteredModel *mlflow.RegisteredModel `json:"registered_model"`
}

type modelVersionResponse struct {
	ModelVersion *mlflow.ModelVersion `json:"model_version"`
}

// registryTags reads and checks a tags field of the registry.
func registryTags(p *params, maxValue int) ([]mlflow.Tag, error) {
	var tags []mlflow.Tag
	if err := p.decode("tags", &tags); err != nil {
		return nil, err
	}
	for _, t := range tags {
		if err := mlflow.ValidateRegistryTag(t, maxValue); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// registeredModelTagValueMax is the size of registered_model_tags.value;
// model_version_tags.value is TEXT, bounded by MLflow's tag value limit.
const registeredModelTagValueMax = 5000

func (a *API) createRegisteredModel(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	tags, err := registryTags(p, registeredModelTagValueMax)
	if err != nil {
		return nil, err
	}
	desc, err := modelDescription(p)
	if err != nil {
		return nil, err
	}
	rm, err := a.Registry.CreateRegisteredModel(r.Context(), name, desc, tags)
	if err != nil {
		return nil, err
	}
	return registeredModelResponse{rm}, nil
}

func (a *API) getRegisteredModel(r *http.Request) (any, error) {
	name, err := requiredParam(r, readRegistryParams, "name")
	if err != nil {
		return nil, err
	}
	rm, err := a.Registry.GetRegisteredModel(r.Context(), name)
	if err != nil {
		return nil, err
	}
	return registeredModelResponse{rm}, nil
}

func (a *API) renameRegisteredModel(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	newName, err := p.requiredStr("new_name")
	if err != nil {
		return nil, err
	}
	rm, err := a.Registry.RenameRegisteredModel(r.Context(), name, newName)
	if err != nil {
		return nil, err
	}
	return registeredModelResponse{rm}, nil
}

func (a *API) updateRegisteredModel(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	desc, err := modelDescription(p)
	if err != nil {
		return nil, err
	}
	rm, err := a.Registry.UpdateRegisteredModel(r.Context(), name, desc)
	if err != nil {
		return nil, err
	}
	return registeredModelResponse{rm}, nil
}

func (a *API) deleteRegisteredModel(r *http.Request) (any, error) {
	name, err := requiredParam(r, readRegistryParams, "name")
	if err != nil {
		return nil, err
	}
	return empty{}, a.Registry.DeleteRegisteredModel(r.Context(), name)
}

// registryPage reads max_results (with MLflow's default and limit) and page_token.
func registryPage(p *params, def, limit int64) (store.Page, error) {
	n, present, err := p.int64Field("max_results")
	if err != nil {
		return store.Page{}, err
	}
	if !present {
		n = def
	}
	if n > limit {
		// MLflow's message quotes the raw value (from the query string).
		raw, _ := p.raw("max_results")
		return store.Page{}, typeError("max_results", raw)
	}
	if n < 1 {
		return store.Page{}, mlflow.InvalidParam("Invalid value for max_results. It must be a positive integer, but got %d", n)
	}
	token, err := p.str("page_token")
	if err != nil {
		return store.Page{}, err
	}
	offset, err := search.DecodeOffsetToken(token)
	if err != nil {
		return store.Page{}, err
	}
	if offset < 0 {
		return store.Page{}, mlflow.InvalidParam("Invalid page token")
	}
	return store.Page{MaxResults: int(n), Offset: offset}, nil
}

// registryQuery reads a registry search request: paging, then filter and
// order_by parsed together so that the first error is the one MLflow
// reports.
func registryQuery(r *http.Request, defaultN, maxN int64, parse func(string, []string) ([]search.Comparison, []search.OrderKey, error)) (store.RegistryQuery, error) {
	var q store.RegistryQuery
	p, err := readRegistryParams(r)
	if err != nil {
		return q, err
	}
	filter, err := p.str("filter")
	if err != nil {
		return q, err
	}
	orderBy, err := p.strList("order_by")
	if err != nil {
		return q, err
	}
	if q.Page, err = registryPage(p, defaultN, maxN); err != nil {
		return q, err
	}
	q.Filter, q.OrderBy, err = parse(filter, orderBy)
	return q, err
}

func (a *API) searchRegisteredModels(r *http.Request) (any, error) {
	q, err := registryQuery(r, mlflow.DefaultResultsRegisteredModels, mlflow.MaxResultsRegisteredModels, search.ParseRegisteredModelSearch)
	if err != nil {
		return nil, err
	}
	rms, next, err := a.Registry.SearchRegisteredModels(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return struct {
		NextPageToken    string                   `json:"next_page_token,omitempty"`
		RegisteredModels []mlflow.RegisteredModel `json:"registered_models,omitempty"`
	}{next, rms}, nil
}

type modelVersionsResponse struct {
	ModelVersions []mlflow.ModelVersion `json:"model_versions,omitempty"`
	NextPageToken string                `json:"next_page_token,omitempty"`
}

func (a *API) getLatestVersions(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	stages, err := p.strList("stages")
	if err != nil {
		return nil, err
	}
	for i, s := range stages {
		if stages[i], err = mlflow.CanonicalStage(s); err != nil {
			return nil, err
		}
	}
	mvs, err := a.Registry.GetLatestVersions(r.Context(), name, stages)
	if err != nil {
		return nil, err
	}
	return modelVersionsResponse{ModelVersions: mvs}, nil
}

func (a *API) setRegisteredModelTag(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	key, err := p.requiredStr("key")
	if err != nil {
		return nil, err
	}
	value, err := p.str("value")
	if err != nil {
		return nil, err
	}
	tag := mlflow.Tag{Key: key, Value: value}
	if err := mlflow.ValidateRegistryTag(tag, registeredModelTagValueMax); err != nil {
		return nil, err
	}
	return empty{}, a.Registry.SetRegisteredModelTag(r.Context(), name, tag)
}

func (a *API) deleteRegisteredModelTag(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	key, err := p.requiredStr("key")
	if err != nil {
		return nil, err
	}
	return empty{}, a.Registry.DeleteRegisteredModelTag(r.Context(), name, key)
}

// versionParam reads a model version number, given as a string (as the
// proto has it) or a number.
func versionParam(p *params) (int64, error) {
	v, ok := p.raw("version")
	if !ok {
		return 0, mlflow.MissingParam("version")
	}
	var s string
	if v[0] == '"' {
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, typeError("version", v)
		}
	} else if v[0] >= '0' && v[0] <= '9' || v[0] == '-' {
		s = string(v)
	} else {
		return 0, typeError("version", v)
	}
	if s == "" {
		return 0, mlflow.MissingParam("version")
	}
	return mlflow.ParseModelVersion(s)
}

// nameAndVersion reads the name and version fields most version endpoints take.
func nameAndVersion(r *http.Request) (*params, string, int64, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, "", 0, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, "", 0, err
	}
	version, err := versionParam(p)
	if err != nil {
		return nil, "", 0, err
	}
	return p, name, version, nil
}

func (a *API) setRegisteredModelAlias(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	alias, err := p.requiredStr("alias")
	if err != nil {
		return nil, err
	}
	if err := mlflow.ValidateAlias(alias); err != nil {
		return nil, err
	}
	if err := mlflow.ValidateAliasNotReserved(alias); err != nil {
		return nil, err
	}
	version, err := versionParam(p)
	if err != nil {
		return nil, err
	}
	return empty{}, a.Registry.SetRegisteredModelAlias(r.Context(), name, alias, version)
}

func (a *API) deleteRegisteredModelAlias(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	alias, err := p.requiredStr("alias")
	if err != nil {
		return nil, err
	}
	if err := mlflow.ValidateAlias(alias); err != nil {
		return nil, err
	}
	return empty{}, a.Registry.DeleteRegisteredModelAlias(r.Context(), name, alias)
}

func (a *API) getModelVersionByAlias(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	alias, err := p.requiredStr("alias")
	if err != nil {
		return nil, err
	}
	if err := mlflow.ValidateAlias(alias); err != nil {
		return nil, err
	}
	mv, err := a.Registry.GetModelVersionByAlias(r.Context(), name, alias)
	if err != nil {
		return nil, err
	}
	return modelVersionResponse{mv}, nil
}

func (a *API) createModelVersion(r *http.Request) (any, error) {
	p, err := readRegistryParams(r)
	if err != nil {
		return nil, err
	}
	var c store.CreateModelVersion
	if c.Name, err = p.requiredStr("name"); err != nil {
		return nil, err
	}
	if c.Source, err = p.requiredStr("source"); err != nil {
		return nil, err
	}
	for field, dst := range map[string]*string{"run_id": &c.RunID, "run_link": &c.RunLink, "description": &c.Description, "model_id": &c.ModelID} {
		if *dst, err = p.str(field); err != nil {
			return nil, err
		}
	}
	if c.Tags, err = registryTags(p, mlflow.MaxTagValueLength); err != nil {
		return nil, err
	}
	if err := mlflow.ValidateLength("description", c.Description, mlflow.MaxModelDescriptionLength); err != nil {
		return nil, err
	}
	// As MLflow, a prompt version's source (a placeholder) is not checked.
	if !mlflow.IsPromptRequest(c.Tags) {
		if err := a.validateModelVersionSource(r, c); err != nil {
			return nil, err
		}
	}
	mv, err := a.Registry.CreateModelVersion(r.Context(), c)
	if err != nil {
		return nil, err
	}
	return modelVersionResponse{mv}, nil
}

func (a *API) getModelVersion(r *http.Request) (any, error) {
	_, name, version, err := nameAndVersion(r)
	if err != nil {
		return nil, err
	}
	mv, err := a.Registry.GetModelVersion(r.Context(), name, version)
	if err != nil {
		return nil, err
	}
	return modelVersionResponse{mv}, nil
}

func (a *API) updateModelVersion(r *http.Request) (any, error) {
	p, name, version, err := nameAndVersion(r)
	if err != nil {
		return nil, err
	}
	desc, err := modelDescription(p)
	if err != nil {
		return nil, err
	}
	mv, err := a.Registry.UpdateModelVersion(r.Context(), name, version, desc)
	if err != nil {
		return nil, err
	}
	return modelVersionResponse{mv}, nil
}

func (a *API) deleteModelVersion(r *http.Request) (any, error) {
	_, name, version, err := nameAndVersion(r)
	if err != nil {
		return nil, err
	}
	return empty{}, a.Registry.DeleteModelVersion(r.Context(), name, version)
}

func (a *API) searchModelVersions(r *http.Request) (any, error) {
	q, err := registryQuery(r, mlflow.DefaultResultsModelVersions, mlflow.MaxResultsModelVersions, search.ParseModelVersionSearch)
	if err != nil {
		return nil, err
	}
	mvs, next, err := a.Registry.SearchModelVersions(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return modelVersionsResponse{mvs, next}, nil
}

func (a *API) transitionModelVersionStage(r *http.Request) (any, error) {
	p, name, version, err := nameAndVersion(r)
	if err != nil {
		return nil, err
	}
	stage, err := p.requiredStr("stage")
	if err != nil {
		return nil, err
	}
	if stage, err = mlflow.CanonicalStage(stage); err != nil {
		return nil, err
	}
	archive := false
	if v, ok := p.raw("archive_existing_versions"); ok {
		switch strings.ToLower(strings.Trim(string(v), `"`)) {
		case "true":
			archive = true
		case "false":
		default:
			return nil, typeError("archive_existing_versions", v)
		}
	}
	mv, err := a.Registry.TransitionModelVersionStage(r.Context(), name, version, stage, archive)
	if err != nil {
		return nil, err
	}
	return modelVersionResponse{mv}, nil
}

func (a *API) getModelVersionDownloadURI(r *http.Request) (any, error) {
	_, name, version, err := nameAndVersion(r)
	if err != nil {
		return nil, err
	}
	uri, err := a.Registry.GetModelVersionDownloadURI(r.Context(), name, version)
	if err != nil {
		return nil, err
	}
	return struct {
		ArtifactURI string `json:"artifact_uri"`
	}{uri}, nil
}

func (a *API) setModelVersionTag(r *http.Request) (any, error) {
	p, name, version, err := nameAndVersion(r)
	if err != nil {
		return nil, err
	}
	key, err := p.requiredStr("key")
	if err != nil {
		return nil, err
	}
	value, err := p.str("value")
	if err != nil {
		return nil, err
	}
	tag := mlflow.Tag{Key: key, Value: value}
	if err := mlflow.ValidateRegistryTag(tag, mlflow.MaxTagValueLength); err != nil {
		return nil, err
	}
	return empty{}, a.Registry.SetModelVersionTag(r.Context(), name, version, tag)
}

func (a *API) deleteModelVersionTag(r *http.Request) (any, error) {
	p, name, version, err := nameAndVersion(r)
	if err != nil {
		return nil, err
	}
	key, err := p.requiredStr("key")
	if err != nil {
		return nil, err
	}
	return empty{}, a.Registry.DeleteModelVersionTag(r.Context(), name, version, key)
}

// modelDescription reads the description of a registered model or version,
// within MLflow's length limit.
func modelDescription(p *params) (string, error) {
	desc, err := p.str("description")
	if err != nil {
		return "", err
	}
	return desc, mlflow.ValidateLength("description", desc, mlflow.MaxModelDescriptionLength)
}
