package search

import (
	"reflect"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// TestRunFilterTable pins the AST shape the SQL compiler relies on.
func TestRunFilterTable(t *testing.T) {
	tests := []struct {
		in   string
		want []Comparison
		err  string
	}{
		{in: "", want: nil},
		{in: "metrics.acc > 0.6", want: []Comparison{{Entity: "metric", Key: "acc", Op: ">", Value: Value{Num: 0.6, IsNum: true, Str: "0.6"}}}},
		{in: "params.`a b` = \"x\"", want: []Comparison{{Entity: "param", Key: "a b", Op: "=", Value: Value{Str: "x"}}}},
		{in: "attributes.created >= 5", want: []Comparison{{Entity: "attribute", Key: "start_time", Op: ">=", Value: Value{Num: 5, IsNum: true, Str: "5"}}}},
		{in: "attributes.run_id NOT IN ('ab', 'cd')", want: []Comparison{{Entity: "attribute", Key: "run_id", Op: "NOT IN", Value: Value{List: []string{"ab", "cd"}}}}},
		{in: "tags.t like 'x%' AND datasets.context = 'train'", want: []Comparison{
			{Entity: "tag", Key: "t", Op: "LIKE", Value: Value{Str: "x%"}},
			{Entity: "dataset", Key: "context", Op: "=", Value: Value{Str: "train"}},
		}},
		{in: "metrics.x IS NULL", err: "Invalid clause(s) in filter string: 'metrics.x', 'IS', 'NULL'"},
		{in: "params.p > '1'", err: "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE'}'"},
	}
	for _, tt := range tests {
		got, err := ParseRunFilter(tt.in)
		if tt.err != "" {
			e, ok := mlflow.AsError(err)
			if !ok || e.Code != mlflow.InvalidParameterValue || e.Message != tt.err {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v, %v\nwant %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestOrderByTable pins the order_by AST.
func TestOrderByTable(t *testing.T) {
	got, err := ParseRunOrderBy([]string{"metrics.acc DESC", "attributes.start_time", "params.`x y` ASC", "created desc"})
	want := []OrderKey{{"metric", "acc", true}, {"attribute", "start_time", false}, {"param", "x y", false}, {"attribute", "start_time", true}}
	if err == nil {
		t.Fatalf("duplicate start_time accepted: %+v", got)
	}
	got, err = ParseRunOrderBy([]string{"metrics.acc DESC", "attributes.start_time", "params.`x y` ASC"})
	if err != nil || !reflect.DeepEqual(got, want[:3]) {
		t.Fatalf("got %+v, %v", got, err)
	}
	rm, err := ParseRegisteredModelOrderBy([]string{"timestamp DESC", "name"})
	if err != nil || !reflect.DeepEqual(rm, []OrderKey{{"attribute", "last_updated_timestamp", true}, {"attribute", "name", false}}) {
		t.Fatalf("registered models: %+v, %v", rm, err)
	}
}
