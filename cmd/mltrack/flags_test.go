package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFlagsDocumented fails when a flag of mltrack is named nowhere in the
// README or docs/: the flags are read from this package's source (every
// fs.<Kind>(Var)(..., "name", ...) call), so a new flag needs its line in
// the docs before it merges.
func TestFlagsDocumented(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "fs" {
			return true
		}
		for _, arg := range call.Args {
			if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				name, _ := strconv.Unquote(lit.Value)
				if len(name) > 1 { // -h and -p are shorthands of --host and --port
					flags = append(flags, name)
				}
				break
			}
		}
		return true
	})
	if len(flags) < 20 {
		t.Fatalf("found only %d flags in main.go: %v", len(flags), flags)
	}
	var docs strings.Builder
	paths, _ := filepath.Glob("../../docs/*.md")
	for _, p := range append(paths, "../../README.md") {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	for _, f := range flags {
		if !regexp.MustCompile(`--` + regexp.QuoteMeta(f) + `\b`).MatchString(docs.String()) {
			t.Errorf("flag --%s is not documented in README.md or docs/", f)
		}
	}
	t.Logf("%d flags, all documented", len(flags))
}
