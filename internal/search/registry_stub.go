package search

// A small parser for the model registry's and logged models' filters and
// order_by clauses, used until the full grammar (ParseRunFilter and friends)
// lands in this package. When it does, these functions should move onto it;
// the API contract (the Comparison and OrderKey values produced) stays.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
)

type regToken struct {
	kind string // "ident", "op", "str", "num", "list", "and"
	text string
	list []string
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c == '-' || c == ':' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// regTokenize splits a filter into identifiers, operators, values and ANDs.
func regTokenize(s string) ([]regToken, error) {
	var toks []regToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			v, n, err := regQuoted(s[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, regToken{kind: "str", text: v})
			i += n
		case c == '(':
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				return nil, mlflow.InvalidParam("Invalid filter string: '%s'. A list must be closed with ')'", s)
			}
			inner := s[i+1 : i+end]
			var list []string
			for _, part := range regSplitList(inner) {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				if part[0] == '\'' || part[0] == '"' {
					v, n, err := regQuoted(part)
					if err != nil || n != len(part) {
						return nil, mlflow.InvalidParam("While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: %s", inner)
					}
					list = append(list, v)
				} else {
					list = append(list, part)
				}
			}
			toks = append(toks, regToken{kind: "list", text: s[i : i+end+1], list: list})
			i += end + 1
		case c == '=' || c == '!' || c == '<' || c == '>' || c == '~':
			j := i
			for j < len(s) && strings.IndexByte("=!<>~", s[j]) >= 0 {
				j++
			}
			toks = append(toks, regToken{kind: "op", text: s[i:j]})
			i = j
		case c == '`' || isIdentByte(c):
			var b strings.Builder
			j := i
			for j < len(s) {
				if s[j] == '`' {
					end := strings.IndexByte(s[j+1:], '`')
					if end < 0 {
						return nil, mlflow.InvalidParam("Invalid filter string: '%s'. Unbalanced backticks", s)
					}
					b.WriteString(s[j+1 : j+1+end])
					j += end + 2
					continue
				}
				if !isIdentByte(s[j]) {
					break
				}
				b.WriteByte(s[j])
				j++
			}
			word := b.String()
			raw := s[i:j]
			i = j
			up := strings.ToUpper(raw)
			switch {
			case up == "AND":
				toks = append(toks, regToken{kind: "and", text: raw})
			case up == "LIKE" || up == "ILIKE" || up == "IN":
				toks = append(toks, regToken{kind: "op", text: up})
			case up == "NOT":
				k := i
				for k < len(s) && s[k] == ' ' {
					k++
				}
				if k+2 <= len(s) && strings.EqualFold(s[k:k+2], "IN") && (k+2 == len(s) || !isIdentByte(s[k+2])) {
					toks = append(toks, regToken{kind: "op", text: "NOT IN"})
					i = k + 2
				} else {
					toks = append(toks, regToken{kind: "op", text: "NOT"})
				}
			default:
				if _, err := strconv.ParseFloat(raw, 64); err == nil {
					toks = append(toks, regToken{kind: "num", text: raw})
				} else {
					toks = append(toks, regToken{kind: "ident", text: word})
				}
			}
		default:
			return nil, mlflow.InvalidParam("Invalid filter string: '%s'", s)
		}
	}
	return toks, nil
}

func regSplitList(s string) []string {
	var parts []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ',':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// regQuoted reads a quoted string at the start of s (a doubled quote is a
// literal quote, a backslash escapes the next character).
func regQuoted(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			b.WriteByte(s[i+1])
			i++
			continue
		}
		if c == q {
			if i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i++
				continue
			}
			return b.String(), i + 1, nil
		}
		b.WriteByte(c)
	}
	return "", 0, mlflow.InvalidParam("Invalid filter string: '%s'. Unterminated quoted string", s)
}

// regParse parses `<ident> <op> <value> [AND ...]` into comparisons with the
// entity named by the identifier's prefix.
func regParse(filter string) ([]Comparison, error) {
	if strings.TrimSpace(filter) == "" {
		return nil, nil
	}
	toks, err := regTokenize(filter)
	if err != nil {
		return nil, err
	}
	var out []Comparison
	for i := 0; i < len(toks); {
		if i+2 >= len(toks) || toks[i].kind != "ident" || toks[i+1].kind != "op" {
			var words []string
			for _, t := range toks[i:min(len(toks), i+3)] {
				if t.kind != "and" {
					words = append(words, t.text)
				}
			}
			return nil, mlflow.InvalidParam("Invalid clause(s) in filter string: %s", strings.Join(words, ", "))
		}
		c := Comparison{Op: toks[i+1].text}
		c.Entity, c.Key = regEntity(toks[i].text)
		v := toks[i+2]
		switch v.kind {
		case "str":
			c.Value.Str = v.text
		case "num":
			c.Value.Str = v.text
			c.Value.Num, _ = strconv.ParseFloat(v.text, 64)
			c.Value.IsNum = true
		case "list":
			c.Value.List = v.list
		default:
			return nil, mlflow.InvalidParam("Invalid clause(s) in filter string: %s, %s, %s", toks[i].text, toks[i+1].text, v.text)
		}
		if (c.Op == "IN" || c.Op == "NOT IN") != (v.kind == "list") {
			return nil, mlflow.InvalidParam("Invalid filter string: '%s'. Expected a list of values after IN / NOT IN, and IN / NOT IN before a list", filter)
		}
		out = append(out, c)
		i += 3
		if i < len(toks) {
			if toks[i].kind != "and" || i+1 == len(toks) {
				return nil, mlflow.InvalidParam("Invalid filter string: \"%s\". Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').", filter)
			}
			i++
		}
	}
	return out, nil
}

func regEntity(ident string) (entity, key string) {
	prefix, rest, ok := strings.Cut(ident, ".")
	if !ok {
		return "attribute", ident
	}
	switch strings.ToLower(prefix) {
	case "tag", "tags":
		return "tag", rest
	case "attribute", "attributes", "attr":
		return "attribute", rest
	case "metric", "metrics":
		return "metric", rest
	case "param", "params", "parameter", "parameters":
		return "param", rest
	}
	return "attribute", ident
}

var stringComparators = []string{"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
var numericComparators = []string{"=", "!=", "<", "<=", ">", ">="}

func oneOf(op string, ops []string) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

// ParseRegisteredModelFilter parses a registered-models/search filter:
// `name` comparisons and tags.
func ParseRegisteredModelFilter(filter string) ([]Comparison, error) {
	cs, err := regParse(filter)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		switch c.Entity {
		case "attribute":
			if c.Key != "name" {
				return nil, mlflow.InvalidParam("Invalid attribute key '%s' specified. Valid keys are '{'name'}'", c.Key)
			}
			if !oneOf(c.Op, stringComparators) {
				return nil, mlflow.InvalidParam("Invalid comparator for attribute: %s", c.Op)
			}
		case "tag":
			if !oneOf(c.Op, stringComparators[:4]) {
				return nil, mlflow.InvalidParam("Invalid comparator for tag: %s", c.Op)
			}
		default:
			return nil, mlflow.InvalidParam("Invalid entity type '%s'", c.Entity)
		}
	}
	return cs, nil
}

// ParseModelVersionFilter parses a model-versions/search filter: name,
// run_id, source_path, version_number and tags.
func ParseModelVersionFilter(filter string) ([]Comparison, error) {
	cs, err := regParse(filter)
	if err != nil {
		return nil, err
	}
	for i, c := range cs {
		switch c.Entity {
		case "attribute":
			switch c.Key {
			case "version_number":
				if !oneOf(c.Op, numericComparators) && c.Op != "IN" && c.Op != "NOT IN" {
					return nil, mlflow.InvalidParam("Invalid comparator for attribute %s: %s", c.Key, c.Op)
				}
				vals := c.Value.List
				if c.Value.List == nil {
					vals = []string{c.Value.Str}
				}
				for _, v := range vals {
					if _, err := strconv.ParseInt(v, 10, 64); err != nil {
						return nil, mlflow.InvalidParam("Invalid value for numeric attribute '%s': '%s'", c.Key, v)
					}
				}
				if c.Value.List == nil {
					cs[i].Value.IsNum = true
					cs[i].Value.Num, _ = strconv.ParseFloat(c.Value.Str, 64)
				}
			case "name", "run_id", "source_path":
				if !oneOf(c.Op, stringComparators) || (c.Op == "IN" || c.Op == "NOT IN") && c.Key == "source_path" {
					return nil, mlflow.InvalidParam("Invalid comparator for attribute: %s", c.Op)
				}
			default:
				return nil, mlflow.InvalidParam("Invalid attribute key '%s' specified. Valid keys are '{'name', 'run_id', 'source_path', 'version_number'}'", c.Key)
			}
		case "tag":
			if !oneOf(c.Op, stringComparators[:4]) {
				return nil, mlflow.InvalidParam("Invalid comparator for tag: %s", c.Op)
			}
		default:
			return nil, mlflow.InvalidParam("Invalid entity type '%s'", c.Entity)
		}
	}
	return cs, nil
}

// LoggedModelAttributes are the attributes a logged-models/search filter or
// order_by may name (with the timestamp aliases MLflow accepts).
var LoggedModelAttributes = map[string]bool{
	"model_id": true, "name": true, "model_type": true, "status": true, "source_run_id": true,
	"experiment_id": true, "creation_timestamp": true, "creation_time": true,
	"last_updated_timestamp": true, "last_updated_time": true,
}

// ParseLoggedModelFilter parses a logged-models/search filter: attributes,
// metrics, params and tags.
func ParseLoggedModelFilter(filter string) ([]Comparison, error) {
	cs, err := regParse(filter)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		switch c.Entity {
		case "attribute":
			if !LoggedModelAttributes[c.Key] {
				return nil, mlflow.InvalidParam("Invalid attribute key '%s' specified.", c.Key)
			}
			ops := stringComparators
			if strings.Contains(c.Key, "time") {
				ops = numericComparators
			}
			if !oneOf(c.Op, ops) {
				return nil, mlflow.InvalidParam("Invalid comparison operator for attributes.%s: '%s'. Expected one of %s.", c.Key, c.Op, pyTuple(ops))
			}
		case "metric":
			if !oneOf(c.Op, numericComparators) {
				return nil, mlflow.InvalidParam("Invalid comparison operator for metrics.%s: '%s'. Expected one of %s.", c.Key, c.Op, pyTuple(numericComparators))
			}
			if !c.Value.IsNum {
				return nil, mlflow.InvalidParam("Invalid value for metrics.%s: '%s'. Expected a number.", c.Key, c.Value.Str)
			}
		case "param", "tag":
			if !oneOf(c.Op, stringComparators) {
				return nil, mlflow.InvalidParam("Invalid comparison operator for %ss.%s: '%s'. Expected one of %s.", c.Entity, c.Key, c.Op, pyTuple(stringComparators))
			}
		default:
			return nil, mlflow.InvalidParam("Invalid entity type '%s'", c.Entity)
		}
	}
	return cs, nil
}

func pyTuple(ops []string) string {
	q := make([]string, len(ops))
	for i, o := range ops {
		q[i] = "'" + o + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// parseOrderClause splits "key [ASC|DESC]".
func parseOrderClause(clause string) (key string, desc bool, err error) {
	f := strings.Fields(clause)
	switch {
	case len(f) == 1:
		return strings.Trim(f[0], "`"), false, nil
	case len(f) == 2 && strings.EqualFold(f[1], "ASC"):
		return strings.Trim(f[0], "`"), false, nil
	case len(f) == 2 && strings.EqualFold(f[1], "DESC"):
		return strings.Trim(f[0], "`"), true, nil
	}
	return "", false, mlflow.InvalidParam("Invalid order_by clause '%s'. Could not be parsed.", clause)
}

func parseRegistryOrderBy(orderBy []string, keys map[string]string, valid string) ([]OrderKey, error) {
	var out []OrderKey
	seen := map[string]bool{}
	for _, clause := range orderBy {
		key, desc, err := parseOrderClause(clause)
		if err != nil {
			return nil, err
		}
		key = strings.TrimPrefix(key, "attribute.")
		col, ok := keys[key]
		if !ok {
			return nil, mlflow.InvalidParam("Invalid order by key '%s' specified. Valid keys are %s", key, valid)
		}
		if seen[col] {
			return nil, mlflow.InvalidParam("`order_by` contains duplicate fields: %s", fmt.Sprintf("[%s]", strings.Join(orderBy, ", ")))
		}
		seen[col] = true
		out = append(out, OrderKey{Entity: "attribute", Key: col, Desc: desc})
	}
	return out, nil
}

// ParseRegisteredModelOrderBy parses registered-models/search order_by:
// name and timestamp (last_updated_timestamp).
func ParseRegisteredModelOrderBy(orderBy []string) ([]OrderKey, error) {
	return parseRegistryOrderBy(orderBy, map[string]string{
		"name": "name", "timestamp": "last_updated_timestamp", "last_updated_timestamp": "last_updated_timestamp",
	}, "'{'name', 'timestamp'}'")
}

// ParseModelVersionOrderBy parses model-versions/search order_by.
func ParseModelVersionOrderBy(orderBy []string) ([]OrderKey, error) {
	return parseRegistryOrderBy(orderBy, map[string]string{
		"name": "name", "version_number": "version_number", "creation_timestamp": "creation_timestamp",
		"last_updated_timestamp": "last_updated_timestamp", "timestamp": "last_updated_timestamp",
		"run_id": "run_id", "source_path": "source_path", "current_stage": "current_stage",
	}, "{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp', 'run_id', 'source_path', 'current_stage'}")
}
