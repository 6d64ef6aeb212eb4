package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEFacts: what the README tells a newcomer stays true: the Go
// version is go.mod's, the quickstart's commands exist, the npm client's
// version is the one the tests install, and what scripts/test.sh needs is
// named.
func TestREADMEFacts(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)$`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	if !strings.Contains(string(readme), "Go "+string(m[1])+" or newer") {
		t.Errorf("the README does not say go.mod's Go %s", m[1])
	}
	for _, cmd := range []string{"go run ./cmd/mltrack server", "scripts/test.sh", "go install ./cmd/mltrack", "docker build -t mltrack ."} {
		if !strings.Contains(string(readme), cmd) {
			t.Errorf("the README lost %q", cmd)
		}
	}
	if st, err := os.Stat("../../scripts/test.sh"); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("scripts/test.sh is not an executable file: %v", err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile("../../test/npm-client/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if v := pkg.DevDependencies["mlflow"]; v == "" || !strings.Contains(string(readme), "`mlflow` "+v) {
		t.Errorf("the README does not name the npm mlflow package's tested version %q", v)
	}
	for _, need := range []string{"root or sudo", "Node.js and npm", "127.0.0.1:5432", "../shared"} {
		if !strings.Contains(string(readme), need) {
			t.Errorf("the README does not say scripts/test.sh needs %q", need)
		}
	}
}
