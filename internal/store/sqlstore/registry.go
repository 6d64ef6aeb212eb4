package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// The registry lives in MLflow's tables (registered_models, model_versions,
// registered_model_tags, model_version_tags, registered_model_aliases), all
// in the 'default' workspace. Deleted versions stay as rows with the stage
// Deleted_Internal, as MLflow keeps them, so version numbers are never reused.

const modelVersionColumns = "mv.name, mv.version, mv.creation_time, mv.last_updated_time, mv.description, mv.user_id, mv.current_stage, mv.source, mv.run_id, mv.status, mv.status_message, mv.run_link"

const notDeleted = "mv.current_stage <> '" + mlflow.StageDeletedInternal + "'"

// createVersionAttempts bounds the retries of a version insert that lost a
// race for its number (only possible if another writer skips the row lock).
const createVersionAttempts = 5

func scanModelVersion(row interface{ Scan(...any) error }) (mlflow.ModelVersion, error) {
	var (
		mv                                            mlflow.ModelVersion
		version                                       int64
		ctime, utime                                  sql.NullInt64
		desc, user, stage, source, runID, status, msg sql.NullString
		link                                          sql.NullString
	)
	if err := row.Scan(&mv.Name, &version, &ctime, &utime, &desc, &user, &stage, &source, &runID, &status, &msg, &link); err != nil {
		return mv, err
	}
	mv.Version = strconv.FormatInt(version, 10)
	mv.CreationTimestamp, mv.LastUpdatedTimestamp = ctime.Int64, utime.Int64
	mv.Description, mv.UserID, mv.CurrentStage = desc.String, user.String, stage.String
	mv.Source, mv.RunID, mv.Status, mv.StatusMessage, mv.RunLink = source.String, runID.String, status.String, msg.String, link.String
	if mv.CurrentStage == "" {
		mv.CurrentStage = mlflow.StageNone
	}
	if mv.Status == "" {
		mv.Status = mlflow.ModelVersionReady
	}
	return mv, nil
}

func scanRegisteredModel(row interface{ Scan(...any) error }) (mlflow.RegisteredModel, error) {
	var (
		rm           mlflow.RegisteredModel
		ctime, utime sql.NullInt64
		desc         sql.NullString
	)
	if err := row.Scan(&rm.Name, &ctime, &utime, &desc); err != nil {
		return rm, err
	}
	rm.CreationTimestamp, rm.LastUpdatedTimestamp, rm.Description = ctime.Int64, utime.Int64, desc.String
	return rm, nil
}

// CreateRegisteredModel inserts a registered model with its tags.
func (s *Store) CreateRegisteredModel(ctx context.Context, name, description string, tags []mlflow.Tag) (*mlflow.RegisteredModel, error) {
	now := time.Now().UnixMilli()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(
			"INSERT INTO registered_models (name, workspace, creation_time, last_updated_time, description) VALUES (?, 'default', ?, ?, ?)"),
			name, now, now, description)
		if s.d.isUniqueViolation(err) {
			return mlflow.RegisteredModelExists(name)
		}
		if err != nil {
			return fmt.Errorf("store: create registered model: %w", err)
		}
		for _, t := range dedupeTags(tags) {
			if err := s.upsertRegisteredModelTag(ctx, tx, name, t); err != nil {
				return err
			}
		}
		if hasTag(tags, mlflow.TagIsPrompt) {
			return s.enqueueEvent(ctx, tx, mlflow.EventPromptCreated, mlflow.PromptCreatedPayload(name, description, tags))
		}
		return s.enqueueEvent(ctx, tx, mlflow.EventRegisteredModelCreated, mlflow.RegisteredModelCreatedPayload(name, description, tags))
	})
	if err != nil {
		return nil, err
	}
	return s.GetRegisteredModel(ctx, name)
}

func (s *Store) upsertRegisteredModelTag(ctx context.Context, q querier, name string, t mlflow.Tag) error {
	_, err := q.ExecContext(ctx, s.q(
		`INSERT INTO registered_model_tags (workspace, "key", value, name) VALUES ('default', ?, ?, ?)
		 ON CONFLICT (workspace, "key", name) DO UPDATE SET value = excluded.value`), t.Key, t.Value, name)
	if err != nil {
		return fmt.Errorf("store: set registered model tag: %w", err)
	}
	return nil
}

// registeredModelExists returns RESOURCE_DOES_NOT_EXIST for an unknown model.
func (s *Store) registeredModelExists(ctx context.Context, q querier, name string) error {
	var one int
	err := q.QueryRowContext(ctx, s.q("SELECT 1 FROM registered_models WHERE workspace = 'default' AND name = ?"), name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return mlflow.RegisteredModelNotFound(name)
	}
	if err != nil {
		return fmt.Errorf("store: get registered model: %w", err)
	}
	return nil
}

// GetRegisteredModel returns a model with its tags, aliases and the latest
// version of each stage.
func (s *Store) GetRegisteredModel(ctx context.Context, name string) (*mlflow.RegisteredModel, error) {
	return s.getRegisteredModel(ctx, s.reader(), name)
}

func (s *Store) getRegisteredModel(ctx context.Context, q querier, name string) (*mlflow.RegisteredModel, error) {
	rm, err := scanRegisteredModel(q.QueryRowContext(ctx, s.q(
		"SELECT name, creation_time, last_updated_time, description FROM registered_models WHERE workspace = 'default' AND name = ?"), name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mlflow.RegisteredModelNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get registered model: %w", err)
	}
	rms := []mlflow.RegisteredModel{rm}
	if err := s.loadRegisteredModelDetails(ctx, q, rms); err != nil {
		return nil, err
	}
	return &rms[0], nil
}

// loadRegisteredModelDetails fills tags, aliases and latest versions of a
// page of models, one query each.
func (s *Store) loadRegisteredModelDetails(ctx context.Context, q querier, rms []mlflow.RegisteredModel) error {
	if len(rms) == 0 {
		return nil
	}
	idx := make(map[string]int, len(rms))
	args := make([]any, len(rms))
	for i, rm := range rms {
		idx[rm.Name] = i
		args[i] = rm.Name
	}
	in := placeholders(len(args))
	rows, err := q.QueryContext(ctx, s.q(`SELECT name, "key", value FROM registered_model_tags WHERE workspace = 'default' AND name IN (`+in+`) ORDER BY name, "key"`), args...)
	if err != nil {
		return fmt.Errorf("store: load registered model tags: %w", err)
	}
	for rows.Next() {
		var (
			name  string
			t     mlflow.Tag
			value sql.NullString
		)
		if err := rows.Scan(&name, &t.Key, &value); err != nil {
			rows.Close()
			return fmt.Errorf("store: load registered model tags: %w", err)
		}
		t.Value = value.String
		rms[idx[name]].Tags = append(rms[idx[name]].Tags, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load registered model tags: %w", err)
	}
	rows, err = q.QueryContext(ctx, s.q(`SELECT name, alias, version FROM registered_model_aliases WHERE workspace = 'default' AND name IN (`+in+`) ORDER BY name, alias`), args...)
	if err != nil {
		return fmt.Errorf("store: load registered model aliases: %w", err)
	}
	for rows.Next() {
		var (
			name    string
			a       mlflow.RegisteredModelAlias
			version int64
		)
		if err := rows.Scan(&name, &a.Alias, &version); err != nil {
			rows.Close()
			return fmt.Errorf("store: load registered model aliases: %w", err)
		}
		a.Version = strconv.FormatInt(version, 10)
		rms[idx[name]].Aliases = append(rms[idx[name]].Aliases, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load registered model aliases: %w", err)
	}
	latest, err := s.latestVersions(ctx, q, args)
	if err != nil {
		return err
	}
	for _, mv := range latest {
		i := idx[mv.Name]
		rms[i].LatestVersions = append(rms[i].LatestVersions, mv)
	}
	return nil
}

// latestVersions returns, for each named model, the highest version of each
// stage, ordered as MLflow lists them (by the stage's first version).
func (s *Store) latestVersions(ctx context.Context, q querier, names []any) ([]mlflow.ModelVersion, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT `+modelVersionColumns+` FROM (
		SELECT m.*, ROW_NUMBER() OVER (PARTITION BY m.name, m.current_stage ORDER BY m.version DESC) AS rn,
		       MIN(m.version) OVER (PARTITION BY m.name, m.current_stage) AS first_version
		FROM model_versions m
		WHERE m.workspace = 'default' AND m.name IN (`+placeholders(len(names))+`) AND m.current_stage <> '`+mlflow.StageDeletedInternal+`'
	) mv WHERE mv.rn = 1 ORDER BY mv.name, mv.first_version`), names...)
	if err != nil {
		return nil, fmt.Errorf("store: latest versions: %w", err)
	}
	mvs, err := collectModelVersions(rows)
	if err != nil {
		return nil, err
	}
	if err := s.loadModelVersionTags(ctx, q, mvs); err != nil {
		return nil, err
	}
	return mvs, nil
}

func collectModelVersions(rows *sql.Rows) ([]mlflow.ModelVersion, error) {
	defer rows.Close()
	var mvs []mlflow.ModelVersion
	for rows.Next() {
		mv, err := scanModelVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read model versions: %w", err)
		}
		mvs = append(mvs, mv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read model versions: %w", err)
	}
	return mvs, nil
}

// loadModelVersionTags fills the tags of model versions in one query.
func (s *Store) loadModelVersionTags(ctx context.Context, q querier, mvs []mlflow.ModelVersion) error {
	if len(mvs) == 0 {
		return nil
	}
	type key struct {
		name    string
		version string
	}
	idx := make(map[key]int, len(mvs))
	var (
		conds []string
		args  []any
	)
	for i, mv := range mvs {
		idx[key{mv.Name, mv.Version}] = i
		v, _ := strconv.ParseInt(mv.Version, 10, 64)
		conds = append(conds, "(name = ? AND version = ?)")
		args = append(args, mv.Name, v)
	}
	rows, err := q.QueryContext(ctx, s.q(`SELECT name, version, "key", value FROM model_version_tags WHERE workspace = 'default' AND (`+strings.Join(conds, " OR ")+`) ORDER BY name, version, "key"`), args...)
	if err != nil {
		return fmt.Errorf("store: load model version tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name    string
			version int64
			t       mlflow.Tag
			value   sql.NullString
		)
		if err := rows.Scan(&name, &version, &t.Key, &value); err != nil {
			return fmt.Errorf("store: load model version tags: %w", err)
		}
		t.Value = value.String
		if i, ok := idx[key{name, strconv.FormatInt(version, 10)}]; ok {
			mvs[i].Tags = append(mvs[i].Tags, t)
		}
	}
	return rows.Err()
}

// RenameRegisteredModel renames a model; its versions, tags and aliases
// follow through the foreign keys' ON UPDATE CASCADE.
func (s *Store) RenameRegisteredModel(ctx context.Context, name, newName string) (*mlflow.RegisteredModel, error) {
	var rm *mlflow.RegisteredModel
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.registeredModelExists(ctx, tx, name); err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		_, err := tx.ExecContext(ctx, s.q("UPDATE registered_models SET name = ?, last_updated_time = ? WHERE workspace = 'default' AND name = ?"), newName, now, name)
		if s.d.isUniqueViolation(err) {
			// MLflow appends the SQL error text; the message alone says it.
			return mlflow.RegisteredModelExists(newName)
		}
		if err != nil {
			return fmt.Errorf("store: rename registered model: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE model_versions SET last_updated_time = ? WHERE workspace = 'default' AND name = ?"), now, newName); err != nil {
			return fmt.Errorf("store: rename registered model: %w", err)
		}
		rm, err = s.getRegisteredModel(ctx, tx, newName)
		return err
	})
	return rm, err
}

// UpdateRegisteredModel sets a model's description.
func (s *Store) UpdateRegisteredModel(ctx context.Context, name, description string) (*mlflow.RegisteredModel, error) {
	var rm *mlflow.RegisteredModel
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE registered_models SET description = ?, last_updated_time = ? WHERE workspace = 'default' AND name = ?"),
			description, time.Now().UnixMilli(), name)
		if err != nil {
			return fmt.Errorf("store: update registered model: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.RegisteredModelNotFound(name)
		}
		rm, err = s.getRegisteredModel(ctx, tx, name)
		return err
	})
	return rm, err
}

// DeleteRegisteredModel removes a model with all its versions, tags and aliases.
func (s *Store) DeleteRegisteredModel(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.registeredModelExists(ctx, tx, name); err != nil {
			return err
		}
		for _, table := range []string{"model_version_tags", "registered_model_aliases", "model_versions", "registered_model_tags", "registered_models"} {
			if _, err := tx.ExecContext(ctx, s.q("DELETE FROM "+table+" WHERE workspace = 'default' AND name = ?"), name); err != nil {
				return fmt.Errorf("store: delete registered model (%s): %w", table, err)
			}
		}
		return nil
	})
}

// isQueryingPrompts reports whether a filter asks for prompts, which
// searches otherwise leave out (as MLflow does).
func isQueryingPrompts(filter []search.Comparison) bool {
	for _, c := range filter {
		if c.Entity == "tag" && c.Key == mlflow.TagIsPrompt {
			return c.Op == "=" && strings.EqualFold(c.Value.Str, "true") || c.Op == "!=" && strings.EqualFold(c.Value.Str, "false")
		}
	}
	return false
}

// SearchRegisteredModels answers one page of registered-models/search.
func (s *Store) SearchRegisteredModels(ctx context.Context, q store.RegistryQuery) ([]mlflow.RegisteredModel, string, error) {
	where := []string{"rm.workspace = 'default'"}
	var args []any
	prompts := isQueryingPrompts(q.Filter)
	for _, c := range q.Filter {
		switch c.Entity {
		case "attribute":
			if c.Key != "name" {
				return nil, "", mlflow.InvalidParam("Invalid attribute key '%s' specified. Valid keys are '{'name'}'", c.Key)
			}
			clause, cargs, err := s.compare("rm.name", asString(c))
			if err != nil {
				return nil, "", err
			}
			where, args = append(where, clause), append(args, cargs...)
		case "tag":
			if c.Key == mlflow.TagIsPrompt && !prompts {
				continue
			}
			clause, cargs, err := s.compare("t.value", asString(c))
			if err != nil {
				return nil, "", err
			}
			where = append(where, `EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.workspace = rm.workspace AND t.name = rm.name AND t."key" = ? AND `+clause+")")
			args = append(append(args, c.Key), cargs...)
		default:
			return nil, "", mlflow.InvalidParam("Invalid entity type '%s'", c.Entity)
		}
	}
	if !prompts {
		where = append(where, `NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.workspace = rm.workspace AND p.name = rm.name AND p."key" = '`+mlflow.TagIsPrompt+`' AND p.value = 'true')`)
	}
	var order []string
	hasName := false
	for _, k := range q.OrderBy {
		col := "rm.last_updated_time"
		if k.Key == "name" {
			col, hasName = "rm.name", true
		}
		order = append(order, col+direction(k.Desc))
	}
	if !hasName {
		order = append(order, "rm.name ASC")
	}
	query := "SELECT rm.name, rm.creation_time, rm.last_updated_time, rm.description FROM registered_models rm WHERE " +
		strings.Join(where, " AND ") + " ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	args = append(args, q.Page.MaxResults+1, q.Page.Offset)
	rows, err := s.reader().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: search registered models: %w", err)
	}
	var rms []mlflow.RegisteredModel
	for rows.Next() {
		rm, err := scanRegisteredModel(rows)
		if err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("store: search registered models: %w", err)
		}
		rms = append(rms, rm)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: search registered models: %w", err)
	}
	rms, next := pageOf(rms, q.Page)
	if err := s.loadRegisteredModelDetails(ctx, s.reader(), rms); err != nil {
		return nil, "", err
	}
	return rms, next, nil
}

// pageOf cuts the extra row a search asked for and makes the next page's
// token when it was there.
func pageOf[T any](items []T, p store.Page) ([]T, string) {
	if len(items) > p.MaxResults {
		return items[:p.MaxResults], search.EncodeOffsetToken(p.Offset + p.MaxResults)
	}
	return items, ""
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}

// GetLatestVersions returns the newest version in each of the stages.
func (s *Store) GetLatestVersions(ctx context.Context, name string, stages []string) ([]mlflow.ModelVersion, error) {
	q := s.reader()
	if err := s.registeredModelExists(ctx, q, name); err != nil {
		return nil, err
	}
	all, err := s.latestVersions(ctx, q, []any{name})
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, st := range stages {
		want[st] = true
	}
	var out []mlflow.ModelVersion
	for _, mv := range all {
		if len(stages) == 0 || want[mv.CurrentStage] {
			out = append(out, mv)
		}
	}
	if err := s.loadVersionAliases(ctx, q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadVersionAliases fills the aliases of versions of one model.
func (s *Store) loadVersionAliases(ctx context.Context, q querier, mvs []mlflow.ModelVersion) error {
	if len(mvs) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, s.q("SELECT alias, version FROM registered_model_aliases WHERE workspace = 'default' AND name = ? ORDER BY alias"), mvs[0].Name)
	if err != nil {
		return fmt.Errorf("store: load aliases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			alias   string
			version int64
		)
		if err := rows.Scan(&alias, &version); err != nil {
			return fmt.Errorf("store: load aliases: %w", err)
		}
		v := strconv.FormatInt(version, 10)
		for i := range mvs {
			if mvs[i].Version == v {
				mvs[i].Aliases = append(mvs[i].Aliases, alias)
			}
		}
	}
	return rows.Err()
}

// SetRegisteredModelTag sets a tag on a model.
func (s *Store) SetRegisteredModelTag(ctx context.Context, name string, tag mlflow.Tag) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.registeredModelExists(ctx, tx, name); err != nil {
			return err
		}
		if err := s.upsertRegisteredModelTag(ctx, tx, name, tag); err != nil {
			return err
		}
		if prompt, err := s.isPrompt(ctx, tx, name); err != nil || !prompt {
			return err
		}
		return s.enqueueEvent(ctx, tx, mlflow.EventPromptTagSet, mlflow.TagSetPayload(name, "", tag.Key, tag.Value))
	})
}

// DeleteRegisteredModelTag removes a tag; a missing tag is not an error (as MLflow).
func (s *Store) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.registeredModelExists(ctx, tx, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM registered_model_tags WHERE workspace = 'default' AND name = ? AND "key" = ?`), name, key); err != nil {
			return fmt.Errorf("store: delete registered model tag: %w", err)
		}
		if prompt, err := s.isPrompt(ctx, tx, name); err != nil || !prompt {
			return err
		}
		return s.enqueueEvent(ctx, tx, mlflow.EventPromptTagDeleted, mlflow.TagDeletedPayload(name, "", key))
	})
}

// modelVersionExists returns RESOURCE_DOES_NOT_EXIST for an unknown or deleted version.
func (s *Store) modelVersionExists(ctx context.Context, q querier, name string, version int64) error {
	var one int
	err := q.QueryRowContext(ctx, s.q("SELECT 1 FROM model_versions mv WHERE mv.workspace = 'default' AND mv.name = ? AND mv.version = ? AND "+notDeleted), name, version).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return mlflow.ModelVersionNotFound(name, version)
	}
	if err != nil {
		return fmt.Errorf("store: get model version: %w", err)
	}
	return nil
}

// SetRegisteredModelAlias points an alias at a version, moving it if it exists.
func (s *Store) SetRegisteredModelAlias(ctx context.Context, name, alias string, version int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.modelVersionExists(ctx, tx, name, version); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO registered_model_aliases (workspace, name, alias, version) VALUES ('default', ?, ?, ?)
			ON CONFLICT (workspace, name, alias) DO UPDATE SET version = excluded.version`), name, alias, version)
		if err != nil {
			return fmt.Errorf("store: set alias: %w", err)
		}
		ev := mlflow.EventModelVersionAliasCreated
		if prompt, err := s.isPrompt(ctx, tx, name); err != nil {
			return err
		} else if prompt {
			ev = mlflow.EventPromptAliasCreated
		}
		return s.enqueueEvent(ctx, tx, ev, mlflow.AliasCreatedPayload(name, alias, strconv.FormatInt(version, 10)))
	})
}

// DeleteRegisteredModelAlias removes an alias; a missing alias is not an error (as MLflow).
func (s *Store) DeleteRegisteredModelAlias(ctx context.Context, name, alias string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.registeredModelExists(ctx, tx, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM registered_model_aliases WHERE workspace = 'default' AND name = ? AND alias = ?"), name, alias); err != nil {
			return fmt.Errorf("store: delete alias: %w", err)
		}
		ev := mlflow.EventModelVersionAliasDeleted
		if prompt, err := s.isPrompt(ctx, tx, name); err != nil {
			return err
		} else if prompt {
			ev = mlflow.EventPromptAliasDeleted
		}
		return s.enqueueEvent(ctx, tx, ev, mlflow.AliasDeletedPayload(name, alias))
	})
}

// GetModelVersionByAlias resolves an alias; "latest" (any case) is the
// highest live version.
func (s *Store) GetModelVersionByAlias(ctx context.Context, name, alias string) (*mlflow.ModelVersion, error) {
	q := s.reader()
	if err := s.registeredModelExists(ctx, q, name); err != nil {
		return nil, err
	}
	var version int64
	if strings.EqualFold(alias, "latest") {
		var v sql.NullInt64
		if err := q.QueryRowContext(ctx, s.q("SELECT MAX(mv.version) FROM model_versions mv WHERE mv.workspace = 'default' AND mv.name = ? AND "+notDeleted), name).Scan(&v); err != nil {
			return nil, fmt.Errorf("store: latest version: %w", err)
		}
		if !v.Valid {
			return nil, mlflow.NotFound("Latest version not found for model %s.", name)
		}
		version = v.Int64
	} else {
		err := q.QueryRowContext(ctx, s.q("SELECT version FROM registered_model_aliases WHERE workspace = 'default' AND name = ? AND alias = ?"), name, alias).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, mlflow.InvalidParam("Registered model alias %s not found.", alias)
		}
		if err != nil {
			return nil, fmt.Errorf("store: get alias: %w", err)
		}
	}
	return s.getModelVersion(ctx, q, name, version)
}

// resolveSource works out where a new version's files are (MLflow's
// storage_location) and, for a logged model, which run made it.
func (s *Store) resolveSource(ctx context.Context, q querier, c *store.CreateModelVersion) (string, error) {
	storage := c.Source
	if u, ok := mlflow.ParseModelsURI(c.Source); ok {
		switch {
		case u.ModelID != "":
			loc, runID, err := s.loggedModelLocation(ctx, q, u.ModelID)
			if err != nil {
				return "", mlflow.UnfetchableModelSource(c.Source, err)
			}
			storage = loc
			if c.RunID == "" {
				c.RunID = runID
			}
		default:
			// A model that does not exist is answered the same way
			// whatever the URI's form: the auth middleware gives this
			// answer for a model the caller may not read.
			if err := s.registeredModelExists(ctx, q, u.Name); err != nil {
				return "", mlflow.UnfetchableModelSource(c.Source, err)
			}
			mv, err := s.resolveModelURI(ctx, q, u)
			if err != nil {
				return "", mlflow.UnfetchableModelSource(c.Source, err)
			}
			storage, err = s.downloadURI(ctx, q, mv.Name, mustVersion(mv.Version))
			if err != nil {
				return "", err
			}
		}
	} else if runID, path, ok := parseRunsURI(c.Source); ok {
		// MLflow records runs:/ as is; the run's own location is what the
		// client would resolve it to, so mltrack records that (when the run
		// is known) and get-download-uri answers a direct URI.
		var uri sql.NullString
		err := q.QueryRowContext(ctx, s.q("SELECT artifact_uri FROM runs WHERE run_uuid = ?"), runID).Scan(&uri)
		if err == nil && uri.String != "" {
			storage = mlflow.AppendURIPath(uri.String, path)
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("store: resolve %s: %w", c.Source, err)
		}
	}
	if c.ModelID != "" {
		// As MLflow, a version of an unknown logged model is refused (MLflow
		// looks the model up to take its run, or to record the version on it).
		_, runID, err := s.loggedModelLocation(ctx, q, c.ModelID)
		if err != nil {
			return "", err
		}
		if c.RunID == "" {
			c.RunID = runID
		}
	}
	return storage, nil
}

func errorMessage(err error) string {
	if e, ok := mlflow.AsError(err); ok {
		return e.Message
	}
	return err.Error()
}

func mustVersion(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// parseRunsURI splits runs:/<run_id>/<path>.
func parseRunsURI(uri string) (runID, path string, ok bool) {
	rest, ok := strings.CutPrefix(uri, "runs:/")
	if !ok {
		return "", "", false
	}
	rest = strings.TrimLeft(rest, "/")
	runID, path, _ = strings.Cut(rest, "/")
	return runID, strings.Trim(path, "/"), runID != ""
}

// resolveModelURI finds the version a models:/<name>/... URI names.
func (s *Store) resolveModelURI(ctx context.Context, q querier, u mlflow.ModelURI) (*mlflow.ModelVersion, error) {
	switch {
	case u.Alias != "":
		return s.GetModelVersionByAlias(ctx, u.Name, u.Alias)
	case u.Version != "":
		return s.getModelVersion(ctx, q, u.Name, mustVersion(u.Version))
	case strings.EqualFold(u.Stage, "latest"):
		return s.GetModelVersionByAlias(ctx, u.Name, "latest")
	default:
		stage, err := mlflow.CanonicalStage(u.Stage)
		if err != nil {
			return nil, err
		}
		mvs, err := s.GetLatestVersions(ctx, u.Name, []string{stage})
		if err != nil {
			return nil, err
		}
		if len(mvs) == 0 {
			return nil, mlflow.NotFound("No versions of model with name '%s' and stage '%s' found", u.Name, stage)
		}
		return &mvs[0], nil
	}
}

// CreateModelVersion adds the next version of a model. The UPDATE of the
// registered model's row comes first: it locks that row (PostgreSQL) or the
// database (SQLite), so concurrent creators, also in other server
// processes, take numbers one after the other. The primary key catches
// anything that slips through, and the insert is retried.
func (s *Store) CreateModelVersion(ctx context.Context, c store.CreateModelVersion) (*mlflow.ModelVersion, error) {
	requestRunID := c.RunID // the webhook payload's run_id is the request's
	storage, err := s.resolveSource(ctx, s.reader(), &c)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		var mv *mlflow.ModelVersion
		err := s.tx(ctx, func(tx *sql.Tx) error {
			now := time.Now().UnixMilli()
			res, err := tx.ExecContext(ctx, s.q("UPDATE registered_models SET last_updated_time = ? WHERE workspace = 'default' AND name = ?"), now, c.Name)
			if err != nil {
				return fmt.Errorf("store: create model version: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return mlflow.RegisteredModelNotFound(c.Name)
			}
			var version int64
			if err := tx.QueryRowContext(ctx, s.q("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE workspace = 'default' AND name = ?"), c.Name).Scan(&version); err != nil {
				return fmt.Errorf("store: next model version: %w", err)
			}
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO model_versions
				(name, version, creation_time, last_updated_time, description, current_stage, source, run_id, status, run_link, storage_location, workspace)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'default')`),
				c.Name, version, now, now, c.Description, mlflow.StageNone, c.Source, c.RunID, mlflow.ModelVersionReady, c.RunLink, storage)
			if err != nil {
				return fmt.Errorf("store: create model version: %w", err)
			}
			for _, t := range dedupeTags(c.Tags) {
				if err := s.upsertModelVersionTag(ctx, tx, c.Name, version, t); err != nil {
					return err
				}
			}
			if c.ModelID != "" && !isPromptVersion(c.Tags) {
				if err := s.recordVersionOnLoggedModel(ctx, tx, c.ModelID, c.Name, version); err != nil {
					return err
				}
			}
			mv, err = s.getModelVersion(ctx, tx, c.Name, version)
			if err != nil {
				return err
			}
			if hasTag(c.Tags, mlflow.TagIsPrompt) {
				return s.enqueueEvent(ctx, tx, mlflow.EventPromptVersionCreated, mlflow.PromptVersionCreatedPayload(c.Name, version, c.Description, c.Tags))
			}
			return s.enqueueEvent(ctx, tx, mlflow.EventModelVersionCreated, mlflow.ModelVersionCreatedPayload(c.Name, version, c.Source, requestRunID, c.Description, c.Tags))
		})
		if err != nil && s.d.isUniqueViolation(err) && attempt < createVersionAttempts {
			continue
		}
		return mv, err
	}
}

// isPromptVersion reports whether a version's tags mark it as a prompt
// version, which MLflow does not record on a logged model.
func isPromptVersion(tags []mlflow.Tag) bool {
	for _, t := range tags {
		if t.Key == mlflow.TagIsPrompt {
			return true
		}
	}
	return false
}

// recordVersionOnLoggedModel adds the version to the logged model's
// mlflow.modelVersions tag, as MLflow's model-versions/create does for a
// version with a model_id. The model's row is locked on PostgreSQL so that
// versions created at once do not overwrite each other's entry.
func (s *Store) recordVersionOnLoggedModel(ctx context.Context, tx *sql.Tx, modelID, name string, version int64) error {
	q := "SELECT experiment_id FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'"
	if s.d.name() == "postgres" {
		q += " FOR UPDATE"
	}
	var exp int64
	err := tx.QueryRowContext(ctx, s.q(q), modelID).Scan(&exp)
	if errors.Is(err, sql.ErrNoRows) {
		return mlflow.LoggedModelNotFound(modelID)
	}
	if err != nil {
		return fmt.Errorf("store: get logged model: %w", err)
	}
	var current sql.NullString
	err = tx.QueryRowContext(ctx, s.q("SELECT tag_value FROM logged_model_tags WHERE model_id = ? AND tag_key = ?"), modelID, mlflow.TagModelVersions).Scan(&current)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: read logged model tag: %w", err)
	}
	value := mlflow.AddModelVersion(current.String, name, version)
	return s.upsertLoggedModelTag(ctx, tx, modelID, exp, mlflow.Tag{Key: mlflow.TagModelVersions, Value: value})
}

func (s *Store) upsertModelVersionTag(ctx context.Context, q querier, name string, version int64, t mlflow.Tag) error {
	_, err := q.ExecContext(ctx, s.q(
		`INSERT INTO model_version_tags (workspace, "key", value, name, version) VALUES ('default', ?, ?, ?, ?)
		 ON CONFLICT (workspace, "key", name, version) DO UPDATE SET value = excluded.value`), t.Key, t.Value, name, version)
	if err != nil {
		return fmt.Errorf("store: set model version tag: %w", err)
	}
	return nil
}

// GetModelVersion returns a live version with its tags and aliases.
func (s *Store) GetModelVersion(ctx context.Context, name string, version int64) (*mlflow.ModelVersion, error) {
	return s.getModelVersion(ctx, s.reader(), name, version)
}

func (s *Store) getModelVersion(ctx context.Context, q querier, name string, version int64) (*mlflow.ModelVersion, error) {
	mv, err := scanModelVersion(q.QueryRowContext(ctx, s.q("SELECT "+modelVersionColumns+" FROM model_versions mv WHERE mv.workspace = 'default' AND mv.name = ? AND mv.version = ? AND "+notDeleted), name, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mlflow.ModelVersionNotFound(name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get model version: %w", err)
	}
	mvs := []mlflow.ModelVersion{mv}
	if err := s.loadModelVersionTags(ctx, q, mvs); err != nil {
		return nil, err
	}
	if err := s.loadVersionAliases(ctx, q, mvs); err != nil {
		return nil, err
	}
	return &mvs[0], nil
}

// UpdateModelVersion sets a version's description.
func (s *Store) UpdateModelVersion(ctx context.Context, name string, version int64, description string) (*mlflow.ModelVersion, error) {
	var mv *mlflow.ModelVersion
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE model_versions SET description = ?, last_updated_time = ? WHERE workspace = 'default' AND name = ? AND version = ? AND current_stage <> '"+mlflow.StageDeletedInternal+"'"),
			description, time.Now().UnixMilli(), name, version)
		if err != nil {
			return fmt.Errorf("store: update model version: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.ModelVersionNotFound(name, version)
		}
		mv, err = s.getModelVersion(ctx, tx, name, version)
		return err
	})
	return mv, err
}

// DeleteModelVersion deletes a version as MLflow does: the row stays with
// the stage Deleted_Internal and its details redacted, so that its number is
// never handed out again. Aliases pointing at it are removed.
func (s *Store) DeleteModelVersion(ctx context.Context, name string, version int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.modelVersionExists(ctx, tx, name, version); err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		if _, err := tx.ExecContext(ctx, s.q("UPDATE registered_models SET last_updated_time = ? WHERE workspace = 'default' AND name = ?"), now, name); err != nil {
			return fmt.Errorf("store: delete model version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM registered_model_aliases WHERE workspace = 'default' AND name = ? AND version = ?"), name, version); err != nil {
			return fmt.Errorf("store: delete model version aliases: %w", err)
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE model_versions SET current_stage = ?, last_updated_time = ?, description = NULL, user_id = NULL,
			source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', status_message = NULL
			WHERE workspace = 'default' AND name = ? AND version = ?`), mlflow.StageDeletedInternal, now, name, version)
		if err != nil {
			return fmt.Errorf("store: delete model version: %w", err)
		}
		return nil
	})
}

// TransitionModelVersionStage moves a version to a stage (canonical name).
func (s *Store) TransitionModelVersionStage(ctx context.Context, name string, version int64, stage string, archive bool) (*mlflow.ModelVersion, error) {
	if archive && stage != mlflow.StageStaging && stage != mlflow.StageProduction {
		// MLflow answers this with a 500; it is the client's mistake.
		return nil, mlflow.InvalidParam("Model version transition cannot archive existing model versions because '%s' is not an Active stage. Valid stages are ['Staging', 'Production']", stage)
	}
	var mv *mlflow.ModelVersion
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.modelVersionExists(ctx, tx, name, version); err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		if archive {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE workspace = 'default' AND name = ? AND version <> ? AND current_stage = ?"),
				mlflow.StageArchived, now, name, version, stage); err != nil {
				return fmt.Errorf("store: archive model versions: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE workspace = 'default' AND name = ? AND version = ?"), stage, now, name, version); err != nil {
			return fmt.Errorf("store: transition model version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE registered_models SET last_updated_time = ? WHERE workspace = 'default' AND name = ?"), now, name); err != nil {
			return fmt.Errorf("store: transition model version: %w", err)
		}
		var err error
		mv, err = s.getModelVersion(ctx, tx, name, version)
		return err
	})
	return mv, err
}

// GetModelVersionDownloadURI is where a version's files are: the resolved
// storage location, else the source.
func (s *Store) GetModelVersionDownloadURI(ctx context.Context, name string, version int64) (string, error) {
	return s.downloadURI(ctx, s.reader(), name, version)
}

func (s *Store) downloadURI(ctx context.Context, q querier, name string, version int64) (string, error) {
	var storage, source sql.NullString
	err := q.QueryRowContext(ctx, s.q("SELECT mv.storage_location, mv.source FROM model_versions mv WHERE mv.workspace = 'default' AND mv.name = ? AND mv.version = ? AND "+notDeleted), name, version).Scan(&storage, &source)
	if errors.Is(err, sql.ErrNoRows) {
		return "", mlflow.ModelVersionNotFound(name, version)
	}
	if err != nil {
		return "", fmt.Errorf("store: get download uri: %w", err)
	}
	if storage.String != "" {
		return storage.String, nil
	}
	return source.String, nil
}

func modelVersionColumn(key string) (string, bool) {
	switch key {
	case "name":
		return "mv.name", true
	case "run_id":
		return "mv.run_id", true
	case "source_path":
		return "mv.source", true
	case "version_number":
		return "mv.version", true
	case "creation_timestamp":
		return "mv.creation_time", true
	case "last_updated_timestamp":
		return "mv.last_updated_time", true
	case "current_stage":
		return "mv.current_stage", true
	}
	return "", false
}

// SearchModelVersions answers one page of model-versions/search.
func (s *Store) SearchModelVersions(ctx context.Context, q store.RegistryQuery) ([]mlflow.ModelVersion, string, error) {
	where := []string{"mv.workspace = 'default'", notDeleted}
	var args []any
	prompts := isQueryingPrompts(q.Filter)
	for _, c := range q.Filter {
		switch c.Entity {
		case "attribute":
			col, ok := modelVersionColumn(c.Key)
			if !ok {
				return nil, "", mlflow.InvalidParam("Invalid attribute name: %s", c.Key)
			}
			var (
				clause string
				cargs  []any
				err    error
			)
			if c.Key == "version_number" {
				clause, cargs, err = integerCompare(col, c)
			} else {
				clause, cargs, err = s.compare(col, asString(c))
			}
			if err != nil {
				return nil, "", err
			}
			where, args = append(where, clause), append(args, cargs...)
		case "tag":
			if c.Key == mlflow.TagIsPrompt && !prompts {
				continue
			}
			clause, cargs, err := s.compare("t.value", asString(c))
			if err != nil {
				return nil, "", err
			}
			where = append(where, `EXISTS (SELECT 1 FROM model_version_tags t WHERE t.workspace = mv.workspace AND t.name = mv.name AND t.version = mv.version AND t."key" = ? AND `+clause+")")
			args = append(append(args, c.Key), cargs...)
		default:
			return nil, "", mlflow.InvalidParam("Invalid entity type '%s'", c.Entity)
		}
	}
	if !prompts {
		where = append(where, `NOT EXISTS (SELECT 1 FROM model_version_tags p WHERE p.workspace = mv.workspace AND p.name = mv.name AND p."key" = '`+mlflow.TagIsPrompt+`' AND p.value = 'true')`)
	}
	orderBy := q.OrderBy
	if len(orderBy) == 0 {
		orderBy = []search.OrderKey{{Key: "last_updated_timestamp", Desc: true}}
	}
	var order []string
	seen := map[string]bool{}
	for _, k := range orderBy {
		col, ok := modelVersionColumn(k.Key)
		if !ok {
			return nil, "", mlflow.InvalidParam("Invalid order by key '%s' specified.", k.Key)
		}
		seen[col] = true
		order = append(order, col+direction(k.Desc))
	}
	if !seen["mv.name"] {
		order = append(order, "mv.name ASC")
	}
	if !seen["mv.version"] {
		order = append(order, "mv.version DESC")
	}
	query := "SELECT " + modelVersionColumns + " FROM model_versions mv WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	args = append(args, q.Page.MaxResults+1, q.Page.Offset)
	rows, err := s.reader().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: search model versions: %w", err)
	}
	mvs, err := collectModelVersions(rows)
	if err != nil {
		return nil, "", err
	}
	mvs, next := pageOf(mvs, q.Page)
	if err := s.loadModelVersionTags(ctx, s.reader(), mvs); err != nil {
		return nil, "", err
	}
	return mvs, next, nil
}

// integerCompare renders a comparison of an integer column with integer
// arguments, so that both databases compare numbers.
func integerCompare(col string, c search.Comparison) (string, []any, error) {
	parse := func(v string) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, mlflow.InvalidParam("Invalid value for numeric attribute '%s': '%s'", c.Key, v)
		}
		return n, nil
	}
	switch c.Op {
	case "IN", "NOT IN":
		if len(c.Value.List) == 0 {
			return "", nil, mlflow.InvalidParam("While parsing a list in the query, expected a non-empty list of values")
		}
		args := make([]any, len(c.Value.List))
		for i, v := range c.Value.List {
			n, err := parse(v)
			if err != nil {
				return "", nil, err
			}
			args[i] = n
		}
		return col + " " + c.Op + " (" + placeholders(len(args)) + ")", args, nil
	case "=", "!=", "<", "<=", ">", ">=":
		n, err := parse(c.Value.Str)
		if c.Value.IsNum && c.Value.Num == float64(int64(c.Value.Num)) {
			n, err = int64(c.Value.Num), nil
		}
		if err != nil {
			return "", nil, err
		}
		return col + " " + c.Op + " ?", []any{n}, nil
	}
	return "", nil, mlflow.InvalidParam("Invalid comparator for attribute %s: %s", c.Key, c.Op)
}

// asString makes a comparison against a text column compare text, also when
// the filter wrote a bare number.
func asString(c search.Comparison) search.Comparison {
	c.Value.IsNum = false
	return c
}

// SetModelVersionTag sets a tag on a live version.
func (s *Store) SetModelVersionTag(ctx context.Context, name string, version int64, tag mlflow.Tag) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.modelVersionExists(ctx, tx, name, version); err != nil {
			return err
		}
		if err := s.upsertModelVersionTag(ctx, tx, name, version, tag); err != nil {
			return err
		}
		ev := mlflow.EventModelVersionTagSet
		if prompt, err := s.isPrompt(ctx, tx, name); err != nil {
			return err
		} else if prompt {
			ev = mlflow.EventPromptVersionTagSet
		}
		return s.enqueueEvent(ctx, tx, ev, mlflow.TagSetPayload(name, strconv.FormatInt(version, 10), tag.Key, tag.Value))
	})
}

// DeleteModelVersionTag removes a tag; a missing tag is not an error (as MLflow).
func (s *Store) DeleteModelVersionTag(ctx context.Context, name string, version int64, key string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.modelVersionExists(ctx, tx, name, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM model_version_tags WHERE workspace = 'default' AND name = ? AND version = ? AND "key" = ?`), name, version, key); err != nil {
			return fmt.Errorf("store: delete model version tag: %w", err)
		}
		ev := mlflow.EventModelVersionTagDeleted
		if prompt, err := s.isPrompt(ctx, tx, name); err != nil {
			return err
		} else if prompt {
			ev = mlflow.EventPromptVersionTagDeleted
		}
		return s.enqueueEvent(ctx, tx, ev, mlflow.TagDeletedPayload(name, strconv.FormatInt(version, 10), key))
	})
}

var (
	_ store.Registry = (*Store)(nil)
	_ store.Webhooks = (*Store)(nil)
)
