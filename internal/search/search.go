package search

import (
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// Python's repr of the sets MLflow prints in its messages.
const (
	runSearchKeys      = "{'start_time', 'Created', 'run_id', 'run_name', 'created', 'status', 'end_time', 'user_id', 'Run Name', 'artifact_uri', 'Run name', 'run name'}"
	runOrderKeys       = "{'start_time', 'Created', 'run_id', 'run_name', 'created', 'status', 'end_time', 'user_id', 'artifact_uri'}"
	datasetKeysSet     = "{'name', 'digest', 'context'}"
	metricCompSet      = "{'!=', '<=', '>=', '>', '=', '<'}"
	paramCompSet       = "{'!=', '=', 'LIKE', 'ILIKE'}"
	stringAttrCompSet  = "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
	datasetCompSet     = "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
	expSearchKeys      = "{'name', 'creation_time', 'last_update_time'}"
	expOrderKeys       = "{'experiment_id', 'name', 'creation_time', 'last_update_time'}"
	rmSearchKeys       = "{'name'}"
	rmRecommendedOrder = "{'name', 'timestamp'}"
	mvSearchKeys       = "{'name', 'version_number', 'run_id', 'source_path'}"
	mvOrderKeys        = "{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}"
	mvNumericKeys      = "{'version_number', 'creation_timestamp', 'last_updated_timestamp'}"
	entityTypesList    = "['metric', 'parameter', 'tag', 'attribute', 'dataset']"
	registryEntities   = "('attribute', 'tag', 'tags')"
)

var (
	runSearchAttrs = set("start_time", "Created", "run_id", "run_name", "created", "status", "end_time",
		"user_id", "Run Name", "artifact_uri", "Run name", "run name")
	runOrderAttrs   = set("start_time", "Created", "run_id", "run_name", "created", "status", "end_time", "user_id", "artifact_uri")
	runNumericAttrs = set("start_time", "end_time", "created", "Created")
	datasetKeys     = set("name", "digest", "context")
	metricComps     = set(">", ">=", "!=", "=", "<", "<=")
	paramComps      = set("!=", "=", "LIKE", "ILIKE")
	stringAttrComps = set("!=", "=", "LIKE", "ILIKE", "IN", "NOT IN")
	expSearchAttrs  = set("name", "creation_time", "last_update_time")
	expOrderAttrs   = set("name", "experiment_id", "creation_time", "last_update_time")
	expNumericAttrs = set("creation_time", "last_update_time")
	mvSearchAttrs   = set("name", "version_number", "run_id", "source_path")
	mvOrderAttrs    = set("name", "version_number", "creation_timestamp", "last_updated_timestamp")
	mvNumericAttrs  = set("version_number", "creation_timestamp", "last_updated_timestamp")
)

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func invalid(format string, args ...any) *mlflow.Error { return mlflow.InvalidParam(format, args...) }

// rawComp is a comparison as MLflow's search_utils returns it: the
// identifier type ("metric", "parameter", "tag", "attribute", "dataset"),
// the key, the comparator as written and the value.
type rawComp struct {
	typ, key, comp string
	val            Value
}

// ---- statement level ----

// parseStatement is SearchUtils.parse_search_filter up to the statement:
// one statement, as top-level items.
func parseStatement(filter string) ([]item, error) {
	stmts := splitStatements(lex(filter))
	if len(stmts) == 0 {
		return nil, invalid("Invalid filter '%s'. Could not be parsed.", filter)
	}
	if len(stmts) > 1 {
		return nil, invalid("Search filter contained multiple expression %s. Provide AND-ed expression list.", pyRepr(filter))
	}
	return group(stmts[0]), nil
}

// comparisons is _process_statement: every top-level item must be a
// comparison, white space or AND. Runs quote each invalid clause, the
// other entities print them bare.
func comparisons(items []item, quote bool) ([]item, error) {
	var bad []string
	var out []item
	for _, it := range items {
		switch {
		case it.comp:
			out = append(out, it)
		case it.tok.kind == kSpace, it.tok.word() == "AND":
		case quote:
			bad = append(bad, "'"+it.text()+"'")
		default:
			bad = append(bad, it.text())
		}
	}
	if len(bad) > 0 {
		return nil, invalid("Invalid clause(s) in filter string: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

// leftIdentifier is _validate_comparison: the left operand must be an
// identifier.
func leftIdentifier(c item) (string, error) {
	if c.operand[0].kind != kIdent {
		return "", invalid("Invalid comparison clause. Expected 'Identifier' found '%s'", c.operand[0].text)
	}
	return c.operand[0].text, nil
}

// ---- shared helpers of search_utils ----

func isQuoted(v, q string) bool {
	return len(v) >= 2 && strings.HasPrefix(v, q) && strings.HasSuffix(v, q)
}

func trimEnds(v string) string {
	r := []rune(v)
	return string(r[1 : len(r)-1])
}

func trimBackticks(v string) string {
	if isQuoted(v, "`") {
		return trimEnds(v)
	}
	return v
}

// stripQuotes is SearchUtils._strip_quotes.
func stripQuotes(v string, expectQuoted bool) (string, error) {
	if isQuoted(v, "'") || isQuoted(v, "\"") {
		return trimEnds(v), nil
	}
	if expectQuoted {
		return "", invalid("Parameter value is either not quoted or unidentified quote types used for string value %s. Use either single or double quotes.", v)
	}
	return v, nil
}

func isStringValue(t token) bool { return t.kind == kString || t.kind == kIdent }
func isNumberValue(t token) bool { return t.kind == kNumber }

func numValue(t token) Value {
	f, _ := strconv.ParseFloat(t.text, 64) // the lexer only makes valid numbers
	return Value{Num: f, IsNum: true, Str: t.text}
}

// runIDs is SearchUtils._parse_run_ids: a Python literal list of strings,
// keeping only the all-lower-case ones.
func runIDs(t token) (Value, error) {
	items, err := literalStrings(t.text)
	if err != nil {
		return Value{}, err
	}
	list := []string{}
	for _, s := range items {
		if pyIsLower(s) {
			list = append(list, s)
		}
	}
	return Value{List: list}, nil
}

// literalStrings is _parse_list_from_sql_token + _check_valid_identifier_list.
func literalStrings(src string) ([]string, error) {
	v, err := pyLiteralEval(src)
	if err != nil {
		return nil, invalid("While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.")
	}
	items := []pyValue{v}
	if v.kind == pyTuple {
		items = v.items
	}
	if len(items) == 0 {
		return nil, invalid("While parsing a list in the query, expected a non-empty list of string values, but got empty list")
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it.kind != pyStr {
			return nil, invalid("While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: %s",
				pyValue{kind: pyTuple, items: items}.repr())
		}
		out = append(out, it.s)
	}
	return out, nil
}

// shlexSplit is Python's shlex.split (POSIX mode); ok is false where
// Python raises ValueError.
func shlexSplit(s string) (out []string, ok bool) {
	const ws = " \t\r\n"
	state := ' '
	escState := 'a'
	var tok strings.Builder
	inTok, quoted := false, false
	flush := func() {
		if inTok || quoted {
			out = append(out, tok.String())
		}
		tok.Reset()
		inTok, quoted = false, false
	}
	for _, ch := range s {
		switch state {
		case ' ', 'a':
			switch {
			case strings.ContainsRune(ws, ch):
				if state == 'a' || quoted {
					flush()
				}
				state = ' '
			case ch == '\\':
				escState, state = 'a', '\\'
				inTok = true
			case ch == '\'' || ch == '"':
				state, quoted, inTok = ch, true, true
			default:
				tok.WriteRune(ch)
				state, inTok = 'a', true
			}
		case '\'', '"':
			switch {
			case ch == state:
				state = 'a'
			case ch == '\\' && state == '"':
				escState, state = '"', '\\'
			default:
				tok.WriteRune(ch)
			}
		case '\\':
			if escState == '"' && ch != '\\' && ch != escState {
				tok.WriteRune('\\')
			}
			tok.WriteRune(ch)
			state = escState
		}
	}
	if state != ' ' && state != 'a' {
		return nil, false
	}
	if state == 'a' || quoted {
		flush()
	}
	return out, true
}

// orderByToken is _validate_order_by_and_generate_token: an identifier,
// optionally followed by white space and one word, with nothing around.
// MLflow reads a bare "timestamp" in any case as "timestamp" and then wants
// ASC or DESC after it.
func orderByToken(orderBy string) (string, error) {
	bad := invalid("Invalid order_by clause '%s'. Could not be parsed.", orderBy)
	toks := lex(orderBy)
	if len(toks) == 0 || !toks[0].isOperand() || toks[0].kind != kIdent {
		return "", bad
	}
	isTimestamp := toks[0].word() == "TIMESTAMP"
	switch {
	case len(toks) == 1 && isTimestamp:
		return "timestamp", nil
	case len(toks) == 1:
		return toks[0].text, nil
	case len(toks) != 3 || toks[1].kind != kSpace || toks[2].word() == "":
		return "", bad
	case isTimestamp:
		if d := toks[2].word(); d != "ASC" && d != "DESC" {
			return "", bad
		}
		return "timestamp " + toks[2].text, nil
	}
	return orderBy, nil
}

// orderByString is _parse_order_by_string: the key text and direction.
func orderByString(orderBy string) (string, bool, error) {
	v, err := orderByToken(orderBy)
	if err != nil {
		return "", false, err
	}
	// MLflow lets shlex's ValueError (unbalanced quotes) escape as a 500;
	// it is answered as the "could not be parsed" 400 here.
	parts, ok := shlexSplit(strings.ReplaceAll(v, "`", "\""))
	if !ok || len(parts) > 2 {
		return "", false, invalid("Invalid order_by clause '%s'. Could not be parsed.", orderBy)
	}
	asc := true
	if len(parts) == 2 {
		d := strings.ToLower(parts[1])
		if d != "asc" && d != "desc" {
			return "", false, invalid("Invalid ordering key in order_by clause '%s'.", orderBy)
		}
		asc = d == "asc"
		v = parts[0]
	}
	return v, asc, nil
}

func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

func splitDot(s string) (string, string, bool) {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

func duplicateOrderBy(orderBy []string) error {
	// MLflow raises this without an error code (a 500); a 400 serves clients.
	return invalid("`order_by` contains duplicate fields: %s", pyStrList(orderBy))
}

// filterComparisons parses an experiment or registry filter into its
// comparisons (none for an empty filter), with MLflow's unquoted clause
// messages.
func filterComparisons(filter string) ([]item, error) {
	if filter == "" {
		return nil, nil
	}
	items, err := parseStatement(filter)
	if err != nil {
		return nil, err
	}
	return comparisons(items, false)
}
