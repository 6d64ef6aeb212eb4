package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/server"
)

// serverOptionList is every option of `mltrack server`, as declared.
func serverOptionList() []option {
	var cfg server.Config
	var f serverFlags
	return newServerOptions(&cfg, &f).list
}

// TestFlagsDocumented fails when a flag of mltrack server, or its
// environment variable, is named nowhere in the README or docs/: a new flag
// needs its line in the docs before it merges.
func TestFlagsDocumented(t *testing.T) {
	opts := serverOptionList()
	if len(opts) < 30 {
		t.Fatalf("found only %d flags", len(opts))
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
	for _, o := range opts {
		if !regexp.MustCompile(`--` + regexp.QuoteMeta(o.name) + `\b`).MatchString(docs.String()) {
			t.Errorf("flag --%s is not documented in README.md or docs/", o.name)
		}
		if o.env != "" && !regexp.MustCompile(`\b`+o.env+`\b`).MatchString(docs.String()) {
			t.Errorf("environment variable %s (--%s) is not documented in README.md or docs/", o.env, o.name)
		}
	}
	t.Logf("%d flags, all documented", len(opts))
}

// TestServerHelp: `mltrack server --help` lists every flag the parser
// knows, GNU style (--name, -x for shorthands), under its group, each with
// its environment variable; it goes to stdout and ends without error.
func TestServerHelp(t *testing.T) {
	var out bytes.Buffer
	_, _, err := serverConfigTo([]string{"--help"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v, want flag.ErrHelp", err)
	}
	help := out.String()
	// The help's entries, by the group heading above them.
	type entry struct{ group, text string }
	entries := map[string]entry{} // long name -> entry
	group := ""
	var cur *entry
	name := ""
	head := regexp.MustCompile(`^  (?:-(\w), )?\s*--([\w-]+)(?: ([A-Z_]+))?$`)
	for _, l := range strings.Split(help, "\n") {
		switch {
		case l != "" && !strings.HasPrefix(l, " ") && strings.HasSuffix(l, ":"):
			if cur != nil {
				entries[name] = *cur
			}
			group, cur = strings.TrimSuffix(l, ":"), nil
		case head.MatchString(l):
			m := head.FindStringSubmatch(l)
			if cur != nil {
				entries[name] = *cur
			}
			name, cur = m[2], &entry{group: group, text: l}
		case cur != nil && strings.HasPrefix(l, "        "):
			cur.text += "\n" + l
		}
	}
	if cur != nil {
		entries[name] = *cur
	}

	opts := serverOptionList()
	declared := map[string]option{}
	groups := map[string]bool{}
	for _, o := range opts {
		declared[o.name] = o
		groups[o.group] = true
		e, ok := entries[o.name]
		if !ok {
			t.Errorf("--help has no entry for --%s", o.name)
			continue
		}
		if e.group != o.group {
			t.Errorf("--%s is under %q, want %q", o.name, e.group, o.group)
		}
		if o.short != "" && !strings.HasPrefix(e.text, "  -"+o.short+", --"+o.name) {
			t.Errorf("--%s: the entry does not show its shorthand -%s: %q", o.name, o.short, e.text)
		}
		if o.env != "" && !strings.Contains(e.text, "[env: "+o.env) {
			t.Errorf("--%s: the entry does not name %s:\n%s", o.name, o.env, e.text)
		}
		want := "--" + o.name
		if o.metavar != "" {
			want += " " + o.metavar
		}
		if !strings.HasSuffix(strings.SplitN(e.text, "\n", 2)[0], want) {
			t.Errorf("--%s: metavar %q not shown: %q", o.name, o.metavar, e.text)
		}
	}
	for _, g := range []string{groupStore, groupArtifacts, groupNetwork, groupAuth, groupLimits, groupOps} {
		if !groups[g] || !strings.Contains(help, "\n"+g+":\n") {
			t.Errorf("no group %q in --help", g)
		}
	}
	// Every flag the parser accepts is declared (and so in the help), with
	// an environment variable unless it is one of MLflow's that has none.
	noEnv := map[string]bool{"no-serve-artifacts": true, "waitress-opts": true, "dev": true}
	var cfg server.Config
	var f serverFlags
	s := newServerOptions(&cfg, &f)
	n := 0
	s.fs.VisitAll(func(fl *flag.Flag) {
		n++
		if len(fl.Name) == 1 {
			for _, o := range opts {
				if o.short == fl.Name {
					return
				}
			}
			t.Errorf("shorthand -%s is not declared with its long flag", fl.Name)
			return
		}
		o, ok := declared[fl.Name]
		if !ok {
			t.Errorf("flag --%s is parsed but not in --help", fl.Name)
			return
		}
		if o.env == "" && !noEnv[fl.Name] {
			t.Errorf("flag --%s has no environment variable", fl.Name)
		}
	})
	if n < len(opts) {
		t.Errorf("%d parsed flags for %d declared", n, len(opts))
	}
	// No Go-style single-dash long names.
	if m := regexp.MustCompile(`(?m)^\s+-[a-z]{2,}`).FindString(help); m != "" {
		t.Errorf("single-dash long flag in --help: %q", m)
	}
}
