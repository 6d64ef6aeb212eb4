package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Search results of non-admins hold only what they may read. Two ways:
//
//   - runs/search and logged-models/search name their experiments in the
//     request: the unreadable ones are removed from experiment_ids before
//     the query runs, so paging stays the store's own.
//   - experiments/search, registered-models/search and model-versions/search
//     are filtered after the query, as MLflow's auth app does: unreadable
//     items are dropped and further pages fetched until the page is full,
//     and the next page token is recomputed as the offset just after the
//     last item examined, so that no item is skipped or repeated.
//
// Filtering after the query keeps the store unaware of users; its cost is
// extra queries when a user may read few of many items.

func (s *Service) filterSearch(w http.ResponseWriter, r *http.Request, next http.Handler, kind filterKind, u *User, f *fields) {
	ctx := r.Context()
	if kind == fRestrictExperiments || kind == fDatasets && len(f.all("experiment_ids")) > 0 {
		s.restrictExperiments(w, r, next, u, f)
		return
	}
	var (
		table   permTable
		listKey string
		keyOf   func(json.RawMessage) string
	)
	switch kind {
	case fExperiments:
		table, listKey, keyOf = experimentPerms, "experiments", stringField("experiment_id")
	case fRegisteredModels:
		table, listKey, keyOf = modelPerms, "registered_models", stringField("name")
	case fModelVersions:
		table, listKey, keyOf = modelPerms, "model_versions", stringField("name")
	case fDatasets:
		table, listKey, keyOf = experimentPerms, "datasets", stringField("dataset_id")
	}
	readable, err := s.readableSet(ctx, table, u)
	if err != nil {
		writeError(w, err)
		return
	}
	if kind == fDatasets {
		// A dataset is readable when every experiment it is linked to is.
		readableExp := readable
		readable = func(id string) bool {
			exps, err := s.lookup.ExistingDatasetExperimentIDs(ctx, id)
			if err != nil {
				return false
			}
			for _, e := range exps {
				if !readableExp(e) {
					return false
				}
			}
			return true
		}
	}
	cw := newCapture()
	next.ServeHTTP(cw, r)
	if cw.status != http.StatusOK {
		cw.copyTo(w)
		return
	}
	items, token, ok := decodePage(cw.body.Bytes(), listKey)
	if !ok {
		cw.copyTo(w)
		return
	}
	pageSize := len(items) // a page with a next token is a full page
	var kept []json.RawMessage
	for _, it := range items {
		if readable(keyOf(it)) {
			kept = append(kept, it)
		}
	}
	for token != "" && len(kept) < pageSize {
		offset, ok := decodeOffsetToken(token)
		if !ok {
			break
		}
		sub := withField(r, f, "page_token", token)
		cw = newCapture()
		next.ServeHTTP(cw, sub)
		if cw.status != http.StatusOK {
			cw.copyTo(w)
			return
		}
		page, nextToken, ok := decodePage(cw.body.Bytes(), listKey)
		if !ok || len(page) == 0 {
			token = ""
			break
		}
		token = nextToken
		for i, it := range page {
			if !readable(keyOf(it)) {
				continue
			}
			kept = append(kept, it)
			if len(kept) == pageSize {
				if i < len(page)-1 || nextToken != "" {
					token = encodeOffsetToken(offset + i + 1)
				}
				break
			}
		}
	}
	out := map[string]any{}
	if len(kept) > 0 {
		out[listKey] = kept
	}
	if token != "" {
		out["next_page_token"] = token
	}
	writeJSON(w, http.StatusOK, out)
}

// restrictExperiments keeps only the readable experiment_ids of a
// runs/search or logged-models/search request.
func (s *Service) restrictExperiments(w http.ResponseWriter, r *http.Request, next http.Handler, u *User, f *fields) {
	ids := f.all("experiment_ids")
	if len(ids) == 0 {
		next.ServeHTTP(w, r) // the handler answers the missing field
		return
	}
	readable, err := s.readableSet(r.Context(), experimentPerms, u)
	if err != nil {
		writeError(w, err)
		return
	}
	// The IDs are checked and passed on in canonical form ("01" is
	// experiment 1 to the store, so it is checked as "1").
	var keep []string
	changed := false
	for _, id := range ids {
		canon, err := canonicalExperimentID(id)
		if err != nil {
			writeError(w, err)
			return
		}
		if readable(canon) {
			keep = append(keep, canon)
		}
		changed = changed || canon != id || !readable(canon)
	}
	if !changed {
		next.ServeHTTP(w, r)
		return
	}
	if len(keep) == 0 {
		writeJSON(w, http.StatusOK, struct{}{}) // MLflow's answer for no runs or models
		return
	}
	next.ServeHTTP(w, withField(r, f, "experiment_ids", keep))
}

// readableSet loads a user's permissions on one kind of resource once and
// answers whether each resource may be read.
func (s *Service) readableSet(ctx context.Context, t permTable, u *User) (func(string) bool, error) {
	perms, err := s.db.permissions(ctx, t, u.ID)
	if err != nil {
		return nil, err
	}
	def := s.defaultPerm.CanRead
	return func(key string) bool {
		name, ok := perms[key]
		if !ok {
			return def
		}
		p, err := ParsePermission(name)
		return err == nil && p.CanRead
	}, nil
}

func stringField(name string) func(json.RawMessage) string {
	return func(raw json.RawMessage) string {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return ""
		}
		var s string
		_ = json.Unmarshal(m[name], &s)
		return s
	}
}

func decodePage(body []byte, listKey string) (items []json.RawMessage, token string, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil, "", false
	}
	if raw, found := m[listKey]; found && json.Unmarshal(raw, &items) != nil {
		return nil, "", false
	}
	if raw, found := m["next_page_token"]; found {
		_ = json.Unmarshal(raw, &token)
	}
	return items, token, true
}

// withField is a copy of r with one field replaced, in the query string or
// the JSON body, wherever the handler reads it.
func withField(r *http.Request, f *fields, name string, value any) *http.Request {
	sub := r.Clone(r.Context())
	if f.body == nil {
		q := sub.URL.Query()
		q.Del(name)
		switch v := value.(type) {
		case string:
			q.Set(name, v)
		case []string:
			q[name] = v
		}
		sub.URL.RawQuery = q.Encode()
		return sub
	}
	body := make(map[string]json.RawMessage, len(f.body)+1)
	for k, v := range f.body {
		body[k] = v
	}
	raw, _ := json.Marshal(value)
	body[name] = raw
	b, _ := json.Marshal(body)
	sub.Body = http.NoBody
	if len(b) > 0 {
		sub.Body = readCloser{bytes.NewReader(b)}
	}
	sub.ContentLength = int64(len(b))
	sub.Header.Set("Content-Length", strconv.Itoa(len(b)))
	return sub
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// MLflow's offset page token: base64 of {"offset": N}.
func encodeOffsetToken(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"offset": ` + strconv.Itoa(offset) + `}`))
}

func decodeOffsetToken(token string) (int, bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return 0, false
	}
	var v struct {
		Offset *int `json:"offset"`
	}
	if json.Unmarshal(raw, &v) != nil || v.Offset == nil || *v.Offset < 0 {
		return 0, false
	}
	return *v.Offset, true
}
