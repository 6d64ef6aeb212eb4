package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
)

// entity_associations types, as MLflow's EntityAssociationType.
const (
	assocExperiment = "experiment"
	assocDataset    = "evaluation_dataset"
)

// searchMaxResults is MLflow's SEARCH_MAX_RESULTS_THRESHOLD.
const searchMaxResults = 50000

func datasetDigest(name string, t int64) string {
	sum := sha256.Sum256([]byte(mlflow.DatasetDigestInput(name, t)))
	return hex.EncodeToString(sum[:])[:8]
}

const datasetColumns = "dataset_id, name, schema, profile, digest, created_time, last_update_time, created_by, last_updated_by"

func scanDataset(row interface{ Scan(...any) error }) (mlflow.EvaluationDataset, error) {
	var d mlflow.EvaluationDataset
	var schema, profile, digest, createdBy, updatedBy sql.NullString
	var created, updated sql.NullInt64
	err := row.Scan(&d.DatasetID, &d.Name, &schema, &profile, &digest, &created, &updated, &createdBy, &updatedBy)
	d.Schema, d.Profile, d.Digest = schema.String, profile.String, digest.String
	d.CreatedBy, d.LastUpdatedBy = createdBy.String, updatedBy.String
	d.CreatedTime, d.LastUpdateTime = created.Int64, updated.Int64
	return d, err
}

// CreateDataset creates an evaluation dataset linked to experiments.
func (s *Store) CreateDataset(ctx context.Context, name string, tags []mlflow.Tag, experimentIDs []string) (*mlflow.EvaluationDataset, error) {
	id := mlflow.DatasetIDPrefix + randomID()
	now := time.Now().UnixMilli()
	tags = dedupeTags(tags)
	var user any
	for _, t := range tags {
		if t.Key == "mlflow.user" {
			user = t.Value
		}
	}
	var d *mlflow.EvaluationDataset
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO evaluation_datasets
			(dataset_id, name, digest, created_time, last_update_time, created_by, last_updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), id, name, datasetDigest(name, now), now, now, user, user)
		if err != nil {
			return fmt.Errorf("store: create dataset: %w", err)
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO evaluation_dataset_tags (dataset_id, key, value) VALUES (?, ?, ?)"), id, t.Key, t.Value); err != nil {
				return fmt.Errorf("store: create dataset tag: %w", err)
			}
		}
		seen := map[string]bool{}
		for _, e := range experimentIDs {
			if seen[e] {
				continue
			}
			seen[e] = true
			if err := s.linkDataset(ctx, tx, id, e, now); err != nil {
				return err
			}
		}
		d, err = s.getDataset(ctx, tx, id)
		return err
	})
	return d, err
}

func (s *Store) linkDataset(ctx context.Context, q querier, id, exp string, now int64) error {
	_, err := q.ExecContext(ctx, s.q(`INSERT INTO entity_associations
		(association_id, source_type, source_id, destination_type, destination_id, created_time)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`), "a-"+randomID(), assocDataset, id, assocExperiment, exp, now)
	if err != nil {
		return fmt.Errorf("store: link dataset to experiment: %w", err)
	}
	return nil
}

// GetDataset returns a dataset with its tags.
func (s *Store) GetDataset(ctx context.Context, id string) (*mlflow.EvaluationDataset, error) {
	return s.getDataset(ctx, s.reader(), id)
}

func (s *Store) getDataset(ctx context.Context, q querier, id string) (*mlflow.EvaluationDataset, error) {
	d, err := scanDataset(q.QueryRowContext(ctx, s.q("SELECT "+datasetColumns+" FROM evaluation_datasets WHERE dataset_id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mlflow.DatasetNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get dataset: %w", err)
	}
	ds := []mlflow.EvaluationDataset{d}
	if err := s.loadDatasetTags(ctx, q, ds); err != nil {
		return nil, err
	}
	return &ds[0], nil
}

// loadDatasetTags fills the tags of datasets, in insertion order.
func (s *Store) loadDatasetTags(ctx context.Context, q querier, ds []mlflow.EvaluationDataset) error {
	if len(ds) == 0 {
		return nil
	}
	idx := map[string]int{}
	args := make([]any, len(ds))
	for i, d := range ds {
		idx[d.DatasetID] = i
		args[i] = d.DatasetID
	}
	rows, err := q.QueryContext(ctx, s.q("SELECT dataset_id, key, value FROM evaluation_dataset_tags WHERE dataset_id IN ("+placeholders(len(args))+") ORDER BY "+s.d.insertionOrder()), args...)
	if err != nil {
		return fmt.Errorf("store: dataset tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t mlflow.Tag
		var v sql.NullString
		if err := rows.Scan(&id, &t.Key, &v); err != nil {
			return fmt.Errorf("store: dataset tags: %w", err)
		}
		t.Value = v.String
		ds[idx[id]].Tags = append(ds[idx[id]].Tags, t)
	}
	return rows.Err()
}

func (s *Store) datasetExists(ctx context.Context, q querier, id string) (name string, ok bool, err error) {
	err = q.QueryRowContext(ctx, s.q("SELECT name FROM evaluation_datasets WHERE dataset_id = ?"), id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: get dataset: %w", err)
	}
	return name, true, nil
}

// DeleteDataset deletes a dataset with its records, tags and links.
func (s *Store) DeleteDataset(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range []string{
			"DELETE FROM evaluation_dataset_records WHERE dataset_id = ?",
			"DELETE FROM evaluation_dataset_tags WHERE dataset_id = ?",
			"DELETE FROM entity_associations WHERE (source_type = '" + assocDataset + "' AND source_id = ?) OR (destination_type = '" + assocDataset + "' AND destination_id = ?)",
			"DELETE FROM evaluation_datasets WHERE dataset_id = ?",
		} {
			args := []any{id}
			if strings.Count(stmt, "?") == 2 {
				args = append(args, id)
			}
			if _, err := tx.ExecContext(ctx, s.q(stmt), args...); err != nil {
				return fmt.Errorf("store: delete dataset: %w", err)
			}
		}
		return nil
	})
}

// datasetColumn maps a search key to its column.
var datasetAttrColumns = map[string]string{
	"name": "name", "created_time": "created_time", "last_update_time": "last_update_time",
	"created_by": "created_by", "last_updated_by": "last_updated_by",
}

func (s *Store) datasetCompare(col string, c search.Comparison, args *[]any) (string, error) {
	switch c.Op {
	case "LIKE":
		*args = append(*args, c.Value.Str)
		return s.d.like(col, "?"), nil
	case "ILIKE":
		*args = append(*args, c.Value.Str)
		return s.d.ilike(col, "?"), nil
	case "=", "!=", "<", "<=", ">", ">=":
		if c.Value.IsNum {
			*args = append(*args, int64(c.Value.Num))
		} else {
			*args = append(*args, c.Value.Str)
		}
		return col + " " + c.Op + " ?", nil
	}
	return "", mlflow.InvalidParam("Invalid comparator: %s", c.Op)
}

// SearchEvaluationDatasets searches evaluation datasets by experiment, filter and order.
func (s *Store) SearchEvaluationDatasets(ctx context.Context, q store.DatasetQuery) ([]mlflow.EvaluationDataset, string, error) {
	max := q.Page.MaxResults
	if max == 0 {
		max = 1000
	}
	if max < 1 || max > searchMaxResults {
		return nil, "", mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be at most %d", max, searchMaxResults)
	}
	var where []string
	var args []any
	if len(q.ExperimentIDs) > 0 {
		where = append(where, "dataset_id IN (SELECT source_id FROM entity_associations WHERE source_type = '"+assocDataset+"' AND destination_type = '"+assocExperiment+"' AND destination_id IN ("+placeholders(len(q.ExperimentIDs))+"))")
		for _, e := range q.ExperimentIDs {
			args = append(args, e)
		}
	}
	for _, c := range q.Filter {
		if c.Entity == search.EntityTag {
			args = append(args, c.Key)
			cond, err := s.datasetCompare("t.value", c, &args)
			if err != nil {
				return nil, "", err
			}
			where = append(where, "EXISTS (SELECT 1 FROM evaluation_dataset_tags t WHERE t.dataset_id = evaluation_datasets.dataset_id AND t.key = ? AND "+cond+")")
			continue
		}
		col, ok := datasetAttrColumns[c.Key]
		if !ok {
			return nil, "", mlflow.InvalidParam("Invalid attribute key '%s' specified.", c.Key)
		}
		cond, err := s.datasetCompare(col, c, &args)
		if err != nil {
			return nil, "", err
		}
		where = append(where, cond)
	}
	query := "SELECT " + datasetColumns + " FROM evaluation_datasets"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	order := q.OrderBy
	if len(order) == 0 {
		order = []search.OrderKey{{Entity: search.EntityAttribute, Key: "created_time", Desc: true}}
	}
	var obs []string
	hasID := false
	for _, o := range order {
		col, ok := datasetAttrColumns[o.Key]
		if !ok {
			return nil, "", mlflow.InvalidParam("Invalid order_by entity: %s", o.Key)
		}
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		obs = append(obs, col+dir)
	}
	if !hasID {
		obs = append(obs, "dataset_id DESC")
	}
	query += " ORDER BY " + strings.Join(obs, ", ") + " LIMIT ? OFFSET ?"
	args = append(args, max+1, q.Page.Offset)
	rows, err := s.reader().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: search datasets: %w", err)
	}
	var out []mlflow.EvaluationDataset
	for rows.Next() {
		d, err := scanDataset(rows)
		if err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("store: search datasets: %w", err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: search datasets: %w", err)
	}
	token := ""
	if len(out) > max {
		out = out[:max]
		token = search.EncodeOffsetToken(q.Page.Offset + max)
	}
	if err := s.loadDatasetTags(ctx, s.reader(), out); err != nil {
		return nil, "", err
	}
	return out, token, nil
}

// SetDatasetTags sets (overwrites) tags of a dataset.
func (s *Store) SetDatasetTags(ctx context.Context, id string, tags []mlflow.Tag) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, ok, err := s.datasetExists(ctx, tx, id); err != nil {
			return err
		} else if !ok {
			return mlflow.NotFound("Could not find evaluation dataset with ID %s", id)
		}
		for _, t := range dedupeTags(tags) {
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO evaluation_dataset_tags (dataset_id, key, value) VALUES (?, ?, ?)
				ON CONFLICT (dataset_id, key) DO UPDATE SET value = excluded.value`), id, t.Key, t.Value)
			if err != nil {
				return fmt.Errorf("store: set dataset tag: %w", err)
			}
		}
		return nil
	})
}

// DeleteDatasetTag deletes a tag; a missing tag or dataset is not an error.
func (s *Store) DeleteDatasetTag(ctx context.Context, id, key string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM evaluation_dataset_tags WHERE dataset_id = ? AND key = ?"), id, key); err != nil {
			return fmt.Errorf("store: delete dataset tag: %w", err)
		}
		return nil
	})
}

// inputHash is MLflow's sha256 of json.dumps(inputs, sort_keys=True).
func inputHash(inputs mlflow.Object) (string, error) {
	raw, _ := inputs.MarshalJSON()
	txt, err := mlflow.PyDumps(raw, true)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(txt))
	return hex.EncodeToString(sum[:]), nil
}

func pyObject(o mlflow.Object) (string, error) {
	raw, _ := o.MarshalJSON()
	return mlflow.PyDumps(raw, false)
}

// nullableObject is a JSON column value: NULL for nil.
func nullableObject(o mlflow.Object) (any, error) {
	if o == nil {
		return nil, nil
	}
	return pyObject(o)
}

type existingRecord struct {
	id           string
	expectations mlflow.Object
	tags         mlflow.Object
}

// UpsertDatasetRecords merges records by inputs, in one transaction.
func (s *Store) UpsertDatasetRecords(ctx context.Context, id string, records []store.DatasetRecordInput) (inserted, updated int, err error) {
	hashes := make([]string, len(records))
	for i, r := range records {
		if hashes[i], err = inputHash(r.Inputs); err != nil {
			return 0, 0, mlflow.InvalidParam("Invalid record inputs: %v", err)
		}
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		inserted, updated = 0, 0
		name, ok, err := s.datasetExists(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return mlflow.NotFound("Could not find evaluation dataset with ID %s", id)
		}
		existing, err := s.existingRecords(ctx, tx, id, hashes)
		if err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		var updatedBy any
		// New records go in with multi-row INSERTs; an update of a record
		// inserted earlier in the batch flushes them first.
		var pending []any
		for i, r := range records {
			user, hasUser := "", false
			if v, ok := r.Tags.Get("mlflow.user"); ok {
				_ = json.Unmarshal(v, &user)
				hasUser = true
				updatedBy = user
			}
			var outputs any
			if r.HasOutputs {
				if string(r.Outputs) != "null" {
					o := mlflow.Object{{Key: mlflow.DatasetRecordWrappedOutputKey, Value: r.Outputs}}
					if outputs, err = pyObject(o); err != nil {
						return mlflow.InvalidParam("Invalid record outputs: %v", err)
					}
				}
			}
			if ex, ok := existing[hashes[i]]; ok {
				if len(pending) > 0 {
					if err := s.insertRecords(ctx, tx, pending); err != nil {
						return err
					}
					pending = pending[:0]
				}
				if len(r.Expectations) > 0 {
					if ex.expectations == nil {
						ex.expectations = mlflow.Object{}
					}
					ex.expectations.Update(r.Expectations)
				}
				if len(r.Tags) > 0 {
					if ex.tags == nil {
						ex.tags = mlflow.Object{}
					}
					ex.tags.Update(r.Tags)
				}
				exp, err := nullableObject(ex.expectations)
				if err != nil {
					return err
				}
				tags, err := nullableObject(ex.tags)
				if err != nil {
					return err
				}
				set := "expectations = ?, tags = ?, last_update_time = ?"
				args := []any{exp, tags, now}
				if r.HasOutputs {
					set += ", outputs = ?"
					args = append(args, outputs)
				}
				if hasUser {
					set += ", last_updated_by = ?"
					args = append(args, user)
				}
				args = append(args, ex.id)
				if _, err := tx.ExecContext(ctx, s.q("UPDATE evaluation_dataset_records SET "+set+" WHERE dataset_record_id = ?"), args...); err != nil {
					return fmt.Errorf("store: update dataset record: %w", err)
				}
				updated++
				continue
			}
			if !r.HasOutputs {
				outputs, _ = pyObject(mlflow.Object{{Key: mlflow.DatasetRecordWrappedOutputKey, Value: json.RawMessage("{}")}})
			}
			inputs, err := pyObject(r.Inputs)
			if err != nil {
				return err
			}
			exp, err := nullableObject(r.Expectations)
			if err != nil {
				return err
			}
			tags := r.Tags
			if tags == nil {
				tags = mlflow.Object{}
			}
			tagsText, err := pyObject(tags)
			if err != nil {
				return err
			}
			src, err := nullableObject(r.Source)
			if err != nil {
				return err
			}
			var createdBy, sourceID, sourceType any
			if hasUser {
				createdBy = user
			}
			if r.SourceID != "" {
				sourceID = r.SourceID
			}
			if r.SourceType != "" {
				sourceType = r.SourceType
			}
			rid := mlflow.DatasetRecordIDPrefix + randomID()
			pending = append(pending, rid, id, inputs, outputs, exp, tagsText, src, sourceID, sourceType, now, now, createdBy, createdBy, hashes[i])
			if len(pending) == recordInsertRows*recordInsertCols {
				if err := s.insertRecords(ctx, tx, pending); err != nil {
					return err
				}
				pending = pending[:0]
			}
			existing[hashes[i]] = &existingRecord{id: rid, expectations: cloneObject(r.Expectations), tags: cloneObject(tags)}
			inserted++
		}
		if len(pending) > 0 {
			if err := s.insertRecords(ctx, tx, pending); err != nil {
				return err
			}
		}
		return s.touchDataset(ctx, tx, id, name, records, now, updatedBy)
	})
	return inserted, updated, err
}

// Records are inserted recordInsertRows at a time (14 parameters each,
// within both databases' parameter limits).
const (
	recordInsertRows = 200
	recordInsertCols = 14
)

// insertRecords inserts rows of recordInsertCols values each.
func (s *Store) insertRecords(ctx context.Context, q querier, args []any) error {
	n := len(args) / recordInsertCols
	row := "(" + placeholders(recordInsertCols) + ")"
	var b strings.Builder
	b.WriteString(`INSERT INTO evaluation_dataset_records
		(dataset_record_id, dataset_id, inputs, outputs, expectations, tags, source, source_id, source_type,
		 created_time, last_update_time, created_by, last_updated_by, input_hash) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	if _, err := q.ExecContext(ctx, s.q(b.String()), args...); err != nil {
		return fmt.Errorf("store: insert dataset records: %w", err)
	}
	return nil
}

func cloneObject(o mlflow.Object) mlflow.Object {
	if o == nil {
		return nil
	}
	return append(mlflow.Object{}, o...)
}

// existingRecords loads the records of a dataset with the given input hashes.
func (s *Store) existingRecords(ctx context.Context, q querier, id string, hashes []string) (map[string]*existingRecord, error) {
	out := map[string]*existingRecord{}
	const chunk = 500
	for start := 0; start < len(hashes); start += chunk {
		part := hashes[start:min(start+chunk, len(hashes))]
		args := []any{id}
		for _, h := range part {
			args = append(args, h)
		}
		rows, err := q.QueryContext(ctx, s.q("SELECT dataset_record_id, input_hash, expectations, tags FROM evaluation_dataset_records WHERE dataset_id = ? AND input_hash IN ("+placeholders(len(part))+")"), args...)
		if err != nil {
			return nil, fmt.Errorf("store: dataset records: %w", err)
		}
		for rows.Next() {
			var rid, h string
			var exp, tags sql.NullString
			if err := rows.Scan(&rid, &h, &exp, &tags); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: dataset records: %w", err)
			}
			e := &existingRecord{id: rid}
			if exp.Valid {
				e.expectations, _, _ = mlflow.ParseObject(json.RawMessage(exp.String))
			}
			if tags.Valid {
				e.tags, _, _ = mlflow.ParseObject(json.RawMessage(tags.String))
			}
			out[h] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: dataset records: %w", err)
		}
	}
	return out, nil
}

// touchDataset updates a dataset after an upsert: schema merged with the
// new records' fields, profile (record count), digest, update time and user.
func (s *Store) touchDataset(ctx context.Context, q querier, id, name string, records []store.DatasetRecordInput, now int64, updatedBy any) error {
	var schemaText sql.NullString
	if err := q.QueryRowContext(ctx, s.q("SELECT schema FROM evaluation_datasets WHERE dataset_id = ?"), id).Scan(&schemaText); err != nil {
		return fmt.Errorf("store: dataset schema: %w", err)
	}
	var schema mlflow.Object
	if schemaText.Valid && schemaText.String != "" {
		schema, _, _ = mlflow.ParseObject(json.RawMessage(schemaText.String))
	}
	if schema == nil && len(records) > 0 {
		schema = mlflow.Object{
			{Key: "inputs", Value: json.RawMessage("{}")},
			{Key: "outputs", Value: json.RawMessage("{}")},
			{Key: "expectations", Value: json.RawMessage("{}")},
			{Key: "version", Value: json.RawMessage(`"1.0"`)},
		}
	}
	section := func(name string) mlflow.Object {
		raw, _ := schema.Get(name)
		o, _, _ := mlflow.ParseObject(raw)
		if o == nil {
			o = mlflow.Object{}
		}
		return o
	}
	if schema != nil {
		inputs, expectations := section("inputs"), section("expectations")
		outRaw, _ := schema.Get("outputs")
		outputs, outIsObj, _ := mlflow.ParseObject(outRaw)
		addFields := func(dst *mlflow.Object, src mlflow.Object) {
			for _, m := range src {
				if _, ok := dst.Get(m.Key); !ok {
					t, _ := json.Marshal(mlflow.JSONFieldType(m.Value))
					dst.Set(m.Key, t)
				}
			}
		}
		for _, r := range records {
			addFields(&inputs, r.Inputs)
			if r.HasOutputs && string(r.Outputs) != "null" {
				o, isObj, _ := mlflow.ParseObject(r.Outputs)
				if isObj && (outIsObj || outputs == nil) {
					if outputs == nil {
						outputs, outIsObj = mlflow.Object{}, true
					}
					addFields(&outputs, o)
				} else if !isObj && len(outputs) == 0 && outIsObj {
					t, _ := json.Marshal(mlflow.JSONFieldType(r.Outputs))
					outRaw, outIsObj, outputs = t, false, nil
				}
			}
			addFields(&expectations, r.Expectations)
		}
		set := func(k string, o mlflow.Object) {
			b, _ := o.MarshalJSON()
			schema.Set(k, b)
		}
		set("inputs", inputs)
		if outIsObj {
			if outputs == nil {
				outputs = mlflow.Object{}
			}
			set("outputs", outputs)
		} else if outRaw != nil {
			schema.Set("outputs", outRaw)
		}
		set("expectations", expectations)
	}
	var count int64
	if err := q.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM evaluation_dataset_records WHERE dataset_id = ?"), id).Scan(&count); err != nil {
		return fmt.Errorf("store: count dataset records: %w", err)
	}
	set := "last_update_time = ?, last_updated_by = ?, digest = ?"
	args := []any{now, updatedBy, datasetDigest(name, now)}
	if schema != nil {
		txt, err := pyObject(schema)
		if err != nil {
			return err
		}
		set += ", schema = ?"
		args = append(args, txt)
	}
	if count > 0 {
		set += ", profile = ?"
		args = append(args, `{"num_records": `+strconv.FormatInt(count, 10)+`}`)
	}
	args = append(args, id)
	if _, err := q.ExecContext(ctx, s.q("UPDATE evaluation_datasets SET "+set+" WHERE dataset_id = ?"), args...); err != nil {
		return fmt.Errorf("store: update dataset: %w", err)
	}
	return nil
}

// DatasetRecords pages through a dataset's records.
func (s *Store) DatasetRecords(ctx context.Context, id string, maxResults int, pageToken string) ([]mlflow.DatasetRecord, string, error) {
	if maxResults <= 0 {
		maxResults = 1000
	}
	q := s.reader()
	if _, ok, err := s.datasetExists(ctx, q, id); err != nil {
		return nil, "", err
	} else if !ok {
		return nil, "", mlflow.NotFound("Could not find evaluation dataset with ID %s", id)
	}
	query := "SELECT dataset_record_id, dataset_id, inputs, outputs, expectations, tags, source, source_id, source_type, created_time, last_update_time, created_by, last_updated_by FROM evaluation_dataset_records WHERE dataset_id = ?"
	args := []any{id}
	offset := 0
	if pageToken != "" {
		dec, err := base64.StdEncoding.DecodeString(pageToken)
		t, rid, found := strings.Cut(string(dec), ":")
		ct, perr := strconv.ParseInt(t, 10, 64)
		if err == nil && found && perr == nil {
			// A row-value comparison, which both databases serve from
			// the (dataset_id, created_time, dataset_record_id) index.
			query += " AND (created_time, dataset_record_id) > (?, ?)"
			args = append(args, ct, rid)
		} else if n, err := strconv.Atoi(pageToken); err == nil && n >= 0 {
			offset = n
		} else {
			return nil, "", mlflow.InvalidParam("Invalid page token: %s", pageToken)
		}
	}
	query += " ORDER BY created_time, dataset_record_id LIMIT ? OFFSET ?"
	args = append(args, maxResults+1, offset)
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: dataset records: %w", err)
	}
	defer rows.Close()
	var out []mlflow.DatasetRecord
	for rows.Next() {
		var r mlflow.DatasetRecord
		var outputs, exp, tags, src, srcID, srcType, cb, ub sql.NullString
		var ct, ut sql.NullInt64
		if err := rows.Scan(&r.DatasetRecordID, &r.DatasetID, &r.Inputs, &outputs, &exp, &tags, &src, &srcID, &srcType, &ct, &ut, &cb, &ub); err != nil {
			return nil, "", fmt.Errorf("store: dataset records: %w", err)
		}
		const wrapped = `{"` + mlflow.DatasetRecordWrappedOutputKey + `": `
		if v, ok := strings.CutPrefix(outputs.String, wrapped); outputs.Valid && ok && strings.HasSuffix(v, "}") && !strings.Contains(v, `"`+mlflow.DatasetRecordWrappedOutputKey+`"`) {
			// The usual case, as json.dumps wrote it: no parse needed.
			if v = v[:len(v)-1]; v != "null" {
				r.Outputs = v
			}
		} else if outputs.Valid {
			o, _, _ := mlflow.ParseObject(json.RawMessage(outputs.String))
			if v, ok := o.Get(mlflow.DatasetRecordWrappedOutputKey); ok && string(v) != "null" {
				r.Outputs, _ = mlflow.PyDumps(v, false)
			}
		}
		r.Expectations, r.Tags, r.Source = nullJSON(exp), nullJSON(tags), nullJSON(src)
		r.SourceID, r.SourceType, r.CreatedBy, r.LastUpdatedBy = srcID.String, srcType.String, cb.String, ub.String
		r.CreatedTime, r.LastUpdateTime = ct.Int64, ut.Int64
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: dataset records: %w", err)
	}
	token := ""
	if len(out) > maxResults {
		out = out[:maxResults]
		last := out[len(out)-1]
		token = base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(last.CreatedTime, 10) + ":" + last.DatasetRecordID))
	}
	return out, token, nil
}

// nullJSON is a JSON column's text, "" for SQL NULL or JSON null.
func nullJSON(v sql.NullString) string {
	if !v.Valid || v.String == "null" {
		return ""
	}
	return v.String
}

// DatasetExperimentIDs lists the experiments a dataset is linked to.
func (s *Store) DatasetExperimentIDs(ctx context.Context, id string) ([]string, error) {
	return s.datasetExperimentIDs(ctx, s.reader(), id)
}

func (s *Store) datasetExperimentIDs(ctx context.Context, q querier, id string) ([]string, error) {
	rows, err := q.QueryContext(ctx, s.q("SELECT destination_id FROM entity_associations WHERE source_type = '"+assocDataset+"' AND source_id = ? AND destination_type = '"+assocExperiment+"' ORDER BY created_time, destination_id"), id)
	if err != nil {
		return nil, fmt.Errorf("store: dataset experiments: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("store: dataset experiments: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddDatasetToExperiments links a dataset to more (existing) experiments.
func (s *Store) AddDatasetToExperiments(ctx context.Context, id string, experimentIDs []string) (*mlflow.EvaluationDataset, error) {
	var d *mlflow.EvaluationDataset
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, ok, err := s.datasetExists(ctx, tx, id); err != nil {
			return err
		} else if !ok {
			return mlflow.NotFound("Dataset '%s' not found", id)
		}
		now := time.Now().UnixMilli()
		for _, e := range experimentIDs {
			n, perr := strconv.ParseInt(e, 10, 64)
			var one int
			err := sql.ErrNoRows
			if perr == nil {
				err = tx.QueryRowContext(ctx, s.q("SELECT 1 FROM experiments WHERE experiment_id = ?"), n).Scan(&one)
			}
			if errors.Is(err, sql.ErrNoRows) {
				return mlflow.NotFound("No Experiment with id=%s", e)
			}
			if err != nil {
				return fmt.Errorf("store: get experiment: %w", err)
			}
			if err := s.linkDataset(ctx, tx, id, e, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE evaluation_datasets SET last_update_time = ? WHERE dataset_id = ?"), now, id); err != nil {
			return fmt.Errorf("store: update dataset: %w", err)
		}
		var err error
		d, err = s.getDataset(ctx, tx, id)
		return err
	})
	return d, err
}

// RemoveDatasetFromExperiments unlinks a dataset from experiments (idempotent).
func (s *Store) RemoveDatasetFromExperiments(ctx context.Context, id string, experimentIDs []string) (*mlflow.EvaluationDataset, error) {
	var d *mlflow.EvaluationDataset
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, ok, err := s.datasetExists(ctx, tx, id); err != nil {
			return err
		} else if !ok {
			return mlflow.NotFound("Dataset '%s' not found", id)
		}
		removed := int64(0)
		for _, e := range experimentIDs {
			res, err := tx.ExecContext(ctx, s.q("DELETE FROM entity_associations WHERE source_type = '"+assocDataset+"' AND source_id = ? AND destination_type = '"+assocExperiment+"' AND destination_id = ?"), id, e)
			if err != nil {
				return fmt.Errorf("store: unlink dataset: %w", err)
			}
			n, _ := res.RowsAffected()
			removed += n
		}
		if removed > 0 {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE evaluation_datasets SET last_update_time = ? WHERE dataset_id = ?"), time.Now().UnixMilli(), id); err != nil {
				return fmt.Errorf("store: update dataset: %w", err)
			}
		}
		var err error
		d, err = s.getDataset(ctx, tx, id)
		return err
	})
	return d, err
}

// ExistingDatasetExperimentIDs is the auth lookup of a dataset's
// experiments; an unknown dataset is RESOURCE_DOES_NOT_EXIST.
func (s *Store) ExistingDatasetExperimentIDs(ctx context.Context, id string) ([]string, error) {
	if _, ok, err := s.datasetExists(ctx, s.reader(), id); err != nil {
		return nil, err
	} else if !ok {
		return nil, mlflow.DatasetNotFound(id)
	}
	return s.datasetExperimentIDs(ctx, s.reader(), id)
}
