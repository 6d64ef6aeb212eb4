// Package wire replays recorded MLflow HTTP exchanges (../shared/mlflow-wire)
// against a server and compares the answers: same status, same error code,
// same JSON shape and field types. Generated ids (run ids, model ids) are
// mapped from the recording to the server's as they appear in answers.
package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Exchange is one recorded request and its answer.
type Exchange struct {
	Seq            int               `json:"seq"`
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	RawPath        string            `json:"raw_path"`
	RawQuery       string            `json:"raw_query"`
	RequestHeaders map[string]string `json:"request_headers"`
	RequestBody    json.RawMessage   `json:"request_body"`
	Status         int               `json:"status"`
	ResponseHdrs   map[string]string `json:"response_headers"`
	ResponseBody   json.RawMessage   `json:"response_body"`
}

// Case is the X-Case header of an api_cases exchange.
func (e *Exchange) Case() string { return e.RequestHeaders["X-Case"] }

// Load reads a .jsonl recording, in request order.
func Load(path string) ([]Exchange, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e Exchange
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, sc.Err()
}

// special bodies: binary files are recorded by size, non-JSON text as text.
type special struct {
	Binary      bool    `json:"binary"`
	Size        int     `json:"size"`
	Text        *string `json:"text"`
	ContentType string  `json:"content_type"`
}

func decodeSpecial(raw json.RawMessage) (special, bool) {
	var s special
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &s) != nil {
		return s, false
	}
	return s, s.Binary || s.Text != nil
}

// Replayer sends exchanges to a server and keeps the id mapping.
type Replayer struct {
	BaseURL string
	Client  *http.Client
	// Pause is waited before each request, so that entities created one
	// after the other get distinct millisecond timestamps, as they had in
	// the recording (orderings by time then match).
	Pause time.Duration
	ids   map[string]string // recorded id -> ours
}

// NewReplayer replays against baseURL (http://host:port).
func NewReplayer(baseURL string) *Replayer {
	return &Replayer{BaseURL: baseURL, Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, Pause: 2 * time.Millisecond, ids: map[string]string{}}
}

func (r *Replayer) subst(s string) string {
	for rec, ours := range r.ids {
		s = strings.ReplaceAll(s, rec, ours)
	}
	return s
}

// Result is what the server answered.
type Result struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send replays one exchange.
func (r *Replayer) Send(e *Exchange) (*Result, error) {
	time.Sleep(r.Pause)
	path := e.Path
	if e.RawPath != "" {
		path = e.RawPath
	}
	target := r.BaseURL + r.subst(path)
	if e.RawQuery != "" {
		target += "?" + r.subst(e.RawQuery)
	}
	var body io.Reader
	if len(e.RequestBody) > 0 && string(e.RequestBody) != "null" {
		if sp, ok := decodeSpecial(e.RequestBody); ok {
			if sp.Binary {
				body = bytes.NewReader(bytes.Repeat([]byte("x"), sp.Size))
			} else {
				body = strings.NewReader(r.subst(*sp.Text))
			}
		} else {
			body = strings.NewReader(r.subst(string(e.RequestBody)))
		}
	}
	req, err := http.NewRequest(e.Method, target, body)
	if err != nil {
		return nil, err
	}
	if e.RawPath != "" {
		req.URL.RawPath = ""
		req.URL.Opaque = "//" + req.URL.Host + r.subst(e.RawPath)
	}
	for _, h := range []string{"Content-Type", "Origin", "Access-Control-Request-Method", "X-Case"} {
		if v, ok := e.RequestHeaders[h]; ok {
			req.Header.Set(h, v)
		}
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	res := &Result{Status: resp.StatusCode, Header: resp.Header, Body: b}
	r.learnIDs(e.ResponseBody, b)
	return res, nil
}

var idRe = regexp.MustCompile(`^((m-|tr-|d-|dr-)?[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)

// Map replaces a recorded value by ours in the requests that follow (a
// receiver's URL, say) and in recorded messages.
func (r *Replayer) Map(recorded, ours string) { r.ids[recorded] = ours }

// Ours is our value of a recorded generated id ("" before it was seen).
func (r *Replayer) Ours(recorded string) string { return r.ids[recorded] }

// learnIDs walks the recorded and our answer side by side and maps the
// recorded generated ids to ours.
func (r *Replayer) learnIDs(recorded json.RawMessage, ours []byte) {
	var a, b any
	if json.Unmarshal(recorded, &a) != nil || json.Unmarshal(ours, &b) != nil {
		return
	}
	var walk func(a, b any)
	walk = func(a, b any) {
		switch av := a.(type) {
		case map[string]any:
			if bv, ok := b.(map[string]any); ok {
				for k, x := range av {
					walk(x, bv[k])
				}
			}
		case []any:
			if bv, ok := b.([]any); ok {
				for i := range min(len(av), len(bv)) {
					walk(av[i], bv[i])
				}
			}
		case string:
			if bv, ok := b.(string); ok && idRe.MatchString(av) && idRe.MatchString(bv) && av != bv {
				if _, seen := r.ids[av]; !seen {
					r.ids[av] = bv
				}
			}
		}
	}
	walk(a, b)
}

// Compare lists the differences between a recorded answer and ours:
// status, error code and message (with the recording's ids replaced by
// ours), and JSON shape (keys and value kinds, list lengths when
// exactLengths). Non-JSON recorded answers (Werkzeug's HTML pages, files)
// compare by status, and files by size.
func (r *Replayer) Compare(e *Exchange, got *Result, exactLengths bool) []string {
	var diffs []string
	if got.Status != e.Status {
		diffs = append(diffs, fmt.Sprintf("status %d, MLflow %d (body %.300s)", got.Status, e.Status, got.Body))
		return diffs
	}
	if sp, ok := decodeSpecial(e.ResponseBody); ok {
		// Error pages recorded as bytes (Werkzeug's HTML) compare by status.
		if sp.Binary && e.Status < 400 && len(got.Body) != sp.Size {
			diffs = append(diffs, fmt.Sprintf("file of %d bytes, MLflow %d", len(got.Body), sp.Size))
		}
		if sp.Text != nil && strings.HasPrefix(sp.ContentType, "text/plain") && string(got.Body) != *sp.Text {
			diffs = append(diffs, fmt.Sprintf("body %q, MLflow %q", got.Body, *sp.Text))
		}
		return diffs
	}
	var want, have any
	if err := json.Unmarshal(e.ResponseBody, &want); err != nil {
		return nil
	}
	if err := json.Unmarshal(got.Body, &have); err != nil {
		return append(diffs, fmt.Sprintf("answer is not JSON: %.200s", got.Body))
	}
	if wm, ok := want.(map[string]any); ok {
		if code, ok := wm["error_code"]; ok {
			hm, _ := have.(map[string]any)
			if hm["error_code"] != code {
				diffs = append(diffs, fmt.Sprintf("error_code %v, MLflow %v (%v)", hm["error_code"], code, hm["message"]))
			} else if msg, _ := wm["message"].(string); hm["message"] != r.subst(msg) {
				diffs = append(diffs, fmt.Sprintf("message %q, MLflow %q", hm["message"], r.subst(msg)))
			}
			return diffs
		}
	}
	r.shape("", want, have, exactLengths, &diffs)
	return diffs
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "list"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "?"
}

func (r *Replayer) shape(path string, want, have any, exactLengths bool, diffs *[]string) {
	if kind(want) != kind(have) {
		*diffs = append(*diffs, fmt.Sprintf("%s: %s %v, MLflow %s %v", path, kind(have), have, kind(want), want))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		h := have.(map[string]any)
		var keys []string
		for k := range w {
			keys = append(keys, k)
		}
		for k := range h {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			wv, wok := w[k]
			hv, hok := h[k]
			switch {
			case !hok:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing (MLflow has %.80v)", path, k, wv))
			case !wok:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: extra field %.80v", path, k, hv))
			default:
				r.shape(path+"."+k, wv, hv, exactLengths, diffs)
			}
		}
	case []any:
		h := r.align(w, have.([]any))
		if exactLengths && len(h) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d items, MLflow %d", path, len(h), len(w)))
		}
		for i := range min(len(w), len(h)) {
			r.shape(fmt.Sprintf("%s[%d]", path, i), w[i], h[i], exactLengths, diffs)
			if !exactLengths {
				break
			}
		}
	}
}

// identity names a listed entity (a run, experiment, model or version) so
// that lists whose order depends on generated ids (runs with equal start
// times are ordered by their random ids) can be compared element by element.
func identity(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if info, ok := m["info"].(map[string]any); ok {
		for _, k := range []string{"run_id", "model_id"} {
			if id, ok := info[k].(string); ok {
				return id
			}
		}
	}
	if id, ok := m["experiment_id"].(string); ok {
		if name, ok := m["name"].(string); ok {
			return id + "/" + name
		}
	}
	if name, ok := m["name"].(string); ok {
		if version, ok := m["version"].(string); ok {
			return name + "/" + version
		}
	}
	return ""
}

// align orders our list like the recorded one when every element is an
// identified entity present in both (recorded ids mapped to ours); else it
// returns the list unchanged.
func (r *Replayer) align(want, have []any) []any {
	if len(want) != len(have) || len(want) < 2 {
		return have
	}
	pos := make(map[string]int, len(have))
	for i, h := range have {
		id := identity(h)
		if id == "" {
			return have
		}
		pos[id] = i
	}
	out := make([]any, len(want))
	for i, w := range want {
		j, ok := pos[r.subst(identity(w))]
		if !ok {
			return have
		}
		out[i] = have[j]
	}
	return out
}
