package search

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/testshared"
)

// apiCaseExclusions are search requests whose answer does not come from
// the filter/order_by/page-token parsing this package does.
var apiCaseExclusions = map[string]string{
	"experiments.search.get-default":                  "max_results validation (handler)",
	"experiments.search.post-default":                 "max_results validation (handler)",
	"experiments.search.max-results-over-limit":       "max_results validation (handler)",
	"experiments.search.max-results-zero":             "max_results validation (handler)",
	"experiments.search.max-results-negative":         "max_results validation (handler)",
	"experiments.search.view-type-invalid":            "view_type validation (handler)",
	"runs.search.max-results-over-limit":              "max_results validation (handler)",
	"runs.search.max-results-zero":                    "max_results validation (store)",
	"runs.search.get-method":                          "405 from routing",
	"logged-models.search.filter-param-and-tag":       "deliberate: mltrack accepts AND in logged-model filters (docs/compatibility.md)",
	"logged-models.search.filter-name-and-tag":        "deliberate: mltrack accepts AND in logged-model filters (docs/compatibility.md)",
	"logged-models.search.garbage-page-token":         "logged-model page tokens are not offset tokens (MLflow answers 500)",
	"logged-models.search.page-2":                     "logged-model page tokens are not offset tokens",
	"logged-models.search.no-experiment-ids":          "experiment_ids validation (handler)",
	"logged-models.search.get-method":                 "404 from the GET logged-models/<id> route",
	"logged-models.search.order-by":                   "logged-model order_by is a list of objects, validated by the handler",
	"registered-models.search.max-results-over-limit": "max_results validation (handler)",
	"registered-models.search.post-method":            "405 from routing",
	"model-versions.search.max-results-over-limit":    "max_results validation (handler)",
	"model-versions.search.post-method":               "405 from routing",
}

type apiCase struct {
	Seq            int                 `json:"seq"`
	Method         string              `json:"method"`
	Path           string              `json:"path"`
	Query          map[string][]string `json:"query"`
	RequestHeaders map[string]string   `json:"request_headers"`
	RequestBody    json.RawMessage     `json:"request_body"`
	Status         int                 `json:"status"`
	ResponseBody   json.RawMessage     `json:"response_body"`
}

func loadAPICases(t *testing.T) []apiCase {
	t.Helper()
	f, err := os.Open(testshared.Path(t, "mlflow-wire", "api_cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []apiCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var c apiCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("bad line: %v", err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// searchRequest extracts filter, order_by and page_token from a recorded
// request (JSON body for POST, query string for GET).
func searchRequest(t *testing.T, c apiCase) (filter string, orderBy []string, pageToken string) {
	if c.Method == "GET" {
		if v := c.Query["filter"]; len(v) > 0 {
			filter = v[0]
		}
		orderBy = c.Query["order_by"]
		if v := c.Query["page_token"]; len(v) > 0 {
			pageToken = v[0]
		}
		return
	}
	var body struct {
		Filter    string          `json:"filter"`
		OrderBy   json.RawMessage `json:"order_by"`
		PageToken string          `json:"page_token"`
	}
	if len(c.RequestBody) > 0 && string(c.RequestBody) != "null" {
		if err := json.Unmarshal(c.RequestBody, &body); err != nil {
			t.Fatalf("seq %d: body: %v", c.Seq, err)
		}
	}
	if len(body.OrderBy) > 0 {
		if err := json.Unmarshal(body.OrderBy, &orderBy); err != nil {
			t.Fatalf("seq %d: order_by is not a list of strings: %s", c.Seq, body.OrderBy)
		}
	}
	return body.Filter, orderBy, body.PageToken
}

// parseForEndpoint runs what the server would parse for the endpoint, in
// MLflow's order.
func parseForEndpoint(path, filter string, orderBy []string, pageToken string) error {
	var err error
	switch {
	case strings.HasSuffix(path, "/runs/search"):
		if _, _, err = ParseRunSearch(filter, orderBy); err == nil {
			_, err = DecodeOffsetToken(pageToken)
		}
	case strings.HasSuffix(path, "/experiments/search"):
		if _, err = ParseExperimentFilter(filter); err == nil {
			if _, err = ParseExperimentOrderBy(orderBy); err == nil {
				_, err = DecodeOffsetToken(pageToken)
			}
		}
	case strings.HasSuffix(path, "/registered-models/search"):
		if _, _, err = ParseRegisteredModelSearch(filter, orderBy); err == nil {
			_, err = DecodeOffsetToken(pageToken)
		}
	case strings.HasSuffix(path, "/model-versions/search"):
		if _, _, err = ParseModelVersionSearch(filter, orderBy); err == nil {
			_, err = DecodeOffsetToken(pageToken)
		}
	case strings.HasSuffix(path, "/logged-models/search"):
		_, err = ParseLoggedModelFilter(filter)
	}
	return err
}

// TestAPICases checks every recorded search request: what MLflow answered
// 200 must parse, what it rejected must fail with the same code and message.
func TestAPICases(t *testing.T) {
	cases := loadAPICases(t)
	checked, excluded := 0, 0
	seenExclusion := map[string]bool{}
	for _, c := range cases {
		if !strings.HasSuffix(c.Path, "/search") || !strings.Contains(c.Path, "/api/2.0/mlflow/") {
			continue
		}
		name := c.RequestHeaders["X-Case"]
		if _, ok := apiCaseExclusions[name]; ok {
			excluded++
			seenExclusion[name] = true
			continue
		}
		filter, orderBy, pageToken := searchRequest(t, c)
		err := parseForEndpoint(c.Path, filter, orderBy, pageToken)
		checked++
		if c.Status == 200 {
			if err != nil {
				t.Errorf("%s (seq %d): MLflow answered 200, we reject: %v", name, c.Seq, err)
			}
			continue
		}
		var want struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
		}
		if err := json.Unmarshal(c.ResponseBody, &want); err != nil || want.ErrorCode == "" {
			t.Errorf("%s (seq %d): status %d without an MLflow error body; exclude it with a reason", name, c.Seq, c.Status)
			continue
		}
		e, ok := mlflow.AsError(err)
		if !ok {
			t.Errorf("%s (seq %d): MLflow answered %d %s %q, we accept", name, c.Seq, c.Status, want.ErrorCode, want.Message)
			continue
		}
		if string(e.Code) != want.ErrorCode || e.Message != want.Message || e.HTTPStatus() != c.Status {
			t.Errorf("%s (seq %d):\n got %d %s %q\nwant %d %s %q", name, c.Seq, e.HTTPStatus(), e.Code, e.Message, c.Status, want.ErrorCode, want.Message)
		}
	}
	for name := range apiCaseExclusions {
		if !seenExclusion[name] {
			t.Errorf("exclusion %q matches no recorded case", name)
		}
	}
	if checked < 80 {
		t.Errorf("only %d search cases checked", checked)
	}
	t.Logf("%d search cases checked, %d excluded", checked, excluded)
}
