package search

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/mlflow"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the parser's current output")

// grammars maps a testdata file stem to the parser it exercises. Order-by
// inputs hold one order_by list per line, entries separated by tabs.
var grammars = map[string]func(line string) string{
	"run_filter":                func(l string) string { return showComps(ParseRunFilter(l)) },
	"experiment_filter":         func(l string) string { return showComps(ParseExperimentFilter(l)) },
	"registered_model_filter":   func(l string) string { return showComps(ParseRegisteredModelFilter(l)) },
	"model_version_filter":      func(l string) string { return showComps(ParseModelVersionFilter(l)) },
	"logged_model_filter":       func(l string) string { return showComps(ParseLoggedModelFilter(l)) },
	"run_order_by":              func(l string) string { return showKeys(ParseRunOrderBy(strings.Split(l, "\t"))) },
	"experiment_order_by":       func(l string) string { return showKeys(ParseExperimentOrderBy(strings.Split(l, "\t"))) },
	"registered_model_order_by": func(l string) string { return showKeys(ParseRegisteredModelOrderBy(strings.Split(l, "\t"))) },
	"model_version_order_by":    func(l string) string { return showKeys(ParseModelVersionOrderBy(strings.Split(l, "\t"))) },
	"page_token": func(l string) string {
		n, err := DecodeOffsetToken(l)
		if err != nil {
			return showErr(err)
		}
		return "offset " + strconv.Itoa(n)
	},
}

func showErr(err error) string {
	e, ok := mlflow.AsError(err)
	if !ok {
		return "NOT AN mlflow.Error: " + err.Error()
	}
	return fmt.Sprintf("error %d %s: %s", e.HTTPStatus(), e.Code, e.Message)
}

func showValue(v Value) string {
	switch {
	case v.List != nil:
		return "list" + strconv.Quote(strings.Join(v.List, "\x00"))
	case v.IsNum:
		return "num(" + strconv.FormatFloat(v.Num, 'g', -1, 64) + ")"
	}
	return "str" + strconv.Quote(v.Str)
}

func showComps(cs []Comparison, err error) string {
	if err != nil {
		return showErr(err)
	}
	if len(cs) == 0 {
		return "(no comparisons)"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s.%q %s %s", c.Entity, c.Key, c.Op, showValue(c.Value))
	}
	return strings.Join(parts, " AND ")
}

func showKeys(ks []OrderKey, err error) string {
	if err != nil {
		return showErr(err)
	}
	parts := make([]string, len(ks))
	for i, k := range ks {
		dir := "ASC"
		if k.Desc {
			dir = "DESC"
		}
		parts[i] = fmt.Sprintf("%s.%q %s", k.Entity, k.Key, dir)
	}
	return strings.Join(parts, ", ")
}

// TestGolden runs every line of testdata/<grammar>.txt through its parser
// and compares with testdata/<grammar>.golden (regenerate with -update and
// review the diff: the expected outputs were checked against MLflow's
// source and, where recorded, api_cases.jsonl).
func TestGolden(t *testing.T) {
	for name, parse := range grammars {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, line := range strings.Split(strings.TrimSuffix(string(in), "\n"), "\n") {
				fmt.Fprintf(&b, "%s\n=> %s\n\n", strconv.Quote(line), parse(line))
			}
			goldenPath := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got := b.String(); got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) && i < len(wl); i++ {
					if gl[i] != wl[i] {
						t.Fatalf("%s line %d:\n got %s\nwant %s", goldenPath, i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("%s: length differs (got %d lines, want %d)", goldenPath, len(gl), len(wl))
			}
		})
	}
}
