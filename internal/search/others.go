package search

import (
	"strconv"
	"strings"
)

// ---- experiments ----

// expIdentifier is SearchExperimentsUtils._get_identifier: only the
// singular "attribute." prefix (and "tag."/"tags.") is accepted.
func expIdentifier(ident string, attrs map[string]bool, attrsRepr string) (string, string, error) {
	typ := "attribute"
	entity, key, dotted := splitDot(ident)
	if dotted {
		if entity != "attribute" && entity != "tag" && entity != "tags" {
			return "", "", invalid("Invalid entity type '%s'. Valid entity types are %s", entity, registryEntities)
		}
		if entity != "attribute" {
			typ = "tag"
		}
	}
	k, _ := stripQuotes(key, false)
	key = trimBackticks(k)
	if typ == "attribute" && !attrs[key] {
		return "", "", invalid("Invalid attribute key '%s' specified. Valid keys are '%s'", key, attrsRepr)
	}
	return typ, key, nil
}

// ParseExperimentFilter parses an experiments/search filter
// (SearchExperimentsUtils.parse_search_filter and the SQL store's checks).
// Quirk kept from MLflow: comparators are not upper-cased here, so
// `name like 'x'` is rejected while `name LIKE 'x'` works.
func ParseExperimentFilter(filter string) ([]Comparison, error) {
	cs, err := filterComparisons(filter)
	if err != nil {
		return nil, err
	}
	var raw []rawComp
	for _, c := range cs {
		ident, err := leftIdentifier(c)
		if err != nil {
			return nil, err
		}
		typ, key, err := expIdentifier(ident, expSearchAttrs, expSearchKeys)
		if err != nil {
			return nil, err
		}
		var v Value
		t := c.operand[1]
		switch {
		case typ == "tag":
			if !isStringValue(t) {
				return nil, invalid("Expected a quoted string value for tag (e.g. 'my-value'). Got value %s", t.text)
			}
			v.Str, err = stripQuotes(t.text, true)
		case expNumericAttrs[key]:
			if !isNumberValue(t) {
				return nil, invalid("Expected numeric value type for numeric attribute: %s. Found %s", key, t.text)
			}
			v = numValue(t)
		case isStringValue(t):
			v.Str, err = stripQuotes(t.text, true)
		case t.kind == kParen:
			return nil, invalid("Only the 'run_id' attribute supports comparison with a list of quoted string values.")
		default:
			return nil, invalid("Expected a quoted string value for attributes. Got value %s", t.text)
		}
		if err != nil {
			return nil, err
		}
		raw = append(raw, rawComp{typ: typ, key: key, comp: c.op, val: v})
	}
	out := make([]Comparison, 0, len(raw))
	for _, r := range raw {
		c := Comparison{Entity: EntityAttribute, Key: r.key, Op: r.comp, Value: r.val}
		if r.typ == "tag" {
			c.Entity = EntityTag
			if !paramComps[r.comp] {
				return nil, invalid("Invalid comparator for tag: %s", r.comp)
			}
		} else if expNumericAttrs[r.key] {
			if !metricComps[r.comp] {
				return nil, invalid("Invalid comparator '%s' not one of '%s", r.comp, stringAttrCompSet)
			}
		} else {
			if !stringAttrComps[r.comp] {
				return nil, invalid("Invalid comparator '%s' not one of '%s'", r.comp, stringAttrCompSet)
			}
			if !paramComps[r.comp] {
				return nil, invalid("Invalid comparator for string attribute: %s", r.comp)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseExperimentOrderBy parses experiments/search order_by entries.
func ParseExperimentOrderBy(orderBy []string) ([]OrderKey, error) {
	var out []OrderKey
	for _, ob := range orderBy {
		v, asc, err := orderByString(ob)
		if err != nil {
			return nil, err
		}
		typ, key, err := expIdentifier(pyStrip(v), expOrderAttrs, expOrderKeys)
		if err != nil {
			return nil, err
		}
		if typ != "attribute" {
			return nil, invalid("Invalid order_by entity: %s", typ)
		}
		out = append(out, OrderKey{Entity: EntityAttribute, Key: key, Desc: !asc})
	}
	return out, nil
}

// ---- registered models and model versions ----

// registryIdentifier is _get_model_search_identifier /
// _get_model_version_search_identifier: the attribute key is checked
// before quotes and backticks are removed.
func registryIdentifier(ident string, attrs map[string]bool, attrsRepr string) (string, string, error) {
	typ := "attribute"
	entity, key, dotted := splitDot(ident)
	if dotted {
		if entity != "attribute" && entity != "tag" && entity != "tags" {
			return "", "", invalid("Invalid entity type '%s'. Valid entity types are %s", entity, registryEntities)
		}
		if entity != "attribute" {
			typ = "tag"
		}
	}
	if typ == "attribute" && !attrs[key] {
		return "", "", invalid("Invalid attribute key '%s' specified. Valid keys are '%s'", key, attrsRepr)
	}
	k, _ := stripQuotes(key, false)
	return typ, trimBackticks(k), nil
}

func registryFilter(filter string, attrs map[string]bool, attrsRepr string, numeric bool) ([]rawComp, error) {
	cs, err := filterComparisons(filter)
	if err != nil {
		return nil, err
	}
	var raw []rawComp
	for _, c := range cs {
		ident, err := leftIdentifier(c)
		if err != nil {
			return nil, err
		}
		typ, key, err := registryIdentifier(ident, attrs, attrsRepr)
		if err != nil {
			return nil, err
		}
		var v Value
		t := c.operand[1]
		switch {
		case typ == "tag":
			if !isStringValue(t) {
				return nil, invalid("Expected a quoted string value for tag (e.g. 'my-value'). Got value %s", t.text)
			}
			v.Str, err = stripQuotes(t.text, true)
		case isStringValue(t):
			v.Str, err = stripQuotes(t.text, true)
		case t.kind == kParen:
			if key != "run_id" {
				return nil, invalid("Only the 'run_id' attribute supports comparison with a list of quoted string values.")
			}
			v, err = runIDs(t)
		case numeric && isNumberValue(t):
			if !mvNumericAttrs[key] {
				return nil, invalid("Only the '%s' attributes support comparison with numeric values.", mvNumericKeys)
			}
			v = numValue(t)
		default:
			return nil, invalid("Expected a quoted string value or a list of quoted string values for attributes. Got value %s", t.text)
		}
		if err != nil {
			return nil, err
		}
		raw = append(raw, rawComp{typ: typ, key: key, comp: strings.ToUpper(c.op), val: v})
	}
	return raw, nil
}

// ParseRegisteredModelFilter parses a registered-models/search filter.
func ParseRegisteredModelFilter(filter string) ([]Comparison, error) {
	raw, err := registryFilter(filter, set("name"), rmSearchKeys, false)
	if err != nil {
		return nil, err
	}
	return checkRegisteredModelComparisons(raw)
}

func checkRegisteredModelComparisons(raw []rawComp) ([]Comparison, error) {
	out := make([]Comparison, 0, len(raw))
	for _, r := range raw {
		c := Comparison{Entity: EntityAttribute, Key: r.key, Op: r.comp, Value: r.val}
		if r.typ == "tag" {
			c.Entity = EntityTag
			if !paramComps[r.comp] {
				return nil, invalid("Invalid comparator for tag: %s", r.comp)
			}
		} else if !paramComps[r.comp] {
			return nil, invalid("Invalid comparator for attribute: %s", r.comp)
		}
		if err := checkListOp(c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseRegisteredModelSearch parses filter and order_by together and
// returns the first error in MLflow's order (filter syntax, order_by,
// then the filter's comparators).
func ParseRegisteredModelSearch(filter string, orderBy []string) ([]Comparison, []OrderKey, error) {
	raw, err := registryFilter(filter, set("name"), rmSearchKeys, false)
	if err != nil {
		return nil, nil, err
	}
	keys, err := ParseRegisteredModelOrderBy(orderBy)
	if err != nil {
		return nil, nil, err
	}
	comps, err := checkRegisteredModelComparisons(raw)
	return comps, keys, err
}

// ParseRegisteredModelOrderBy parses registered-models/search order_by
// entries. Keys: "name", and "timestamp" or "last_updated_timestamp", both
// returned as "last_updated_timestamp" (MLflow orders both by
// last_updated_time).
func ParseRegisteredModelOrderBy(orderBy []string) ([]OrderKey, error) {
	var out []OrderKey
	seen := map[string]bool{}
	for _, ob := range orderBy {
		v, asc, err := orderByString(ob)
		if err != nil {
			return nil, err
		}
		key := pyStrip(v)
		switch key {
		case "name":
		case "timestamp", "last_updated_timestamp":
			key = "last_updated_timestamp"
		default:
			return nil, invalid("Invalid order by key '%s' specified. Valid keys are '%s'", key, rmRecommendedOrder)
		}
		if seen[key] {
			return nil, duplicateOrderBy(orderBy)
		}
		seen[key] = true
		out = append(out, OrderKey{Entity: EntityAttribute, Key: key, Desc: !asc})
	}
	return out, nil
}

// ParseModelVersionFilter parses a model-versions/search filter.
func ParseModelVersionFilter(filter string) ([]Comparison, error) {
	raw, err := registryFilter(filter, mvSearchAttrs, mvSearchKeys, true)
	if err != nil {
		return nil, err
	}
	return checkModelVersionComparisons(raw)
}

func checkModelVersionComparisons(raw []rawComp) ([]Comparison, error) {
	out := make([]Comparison, 0, len(raw))
	for _, r := range raw {
		c := Comparison{Entity: EntityAttribute, Key: r.key, Op: r.comp, Value: r.val}
		switch {
		case r.typ == "tag":
			c.Entity = EntityTag
			if !paramComps[r.comp] {
				return nil, invalid("Invalid comparator for tag: %s", r.comp)
			}
		case mvNumericAttrs[r.key]:
			if !metricComps[r.comp] {
				return nil, invalid("Invalid comparator for attribute %s: %s", r.key, r.comp)
			}
		default:
			if !(paramComps[r.comp] || r.comp == "IN") || (r.comp == "IN" && r.key != "run_id") {
				return nil, invalid("Invalid comparator for attribute: %s", r.comp)
			}
		}
		if err := checkListOp(c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseModelVersionSearch parses filter and order_by together and returns
// the first error in MLflow's order.
func ParseModelVersionSearch(filter string, orderBy []string) ([]Comparison, []OrderKey, error) {
	raw, err := registryFilter(filter, mvSearchAttrs, mvSearchKeys, true)
	if err != nil {
		return nil, nil, err
	}
	keys, err := ParseModelVersionOrderBy(orderBy)
	if err != nil {
		return nil, nil, err
	}
	comps, err := checkModelVersionComparisons(raw)
	return comps, keys, err
}

// ParseModelVersionOrderBy parses model-versions/search order_by entries
// (keys name, version_number, creation_timestamp, last_updated_timestamp).
// Quirk kept: `tags.<k>` is accepted when <k> is one of those keys and then
// orders by the attribute, as MLflow does.
func ParseModelVersionOrderBy(orderBy []string) ([]OrderKey, error) {
	var out []OrderKey
	seen := map[string]bool{}
	for _, ob := range orderBy {
		v, asc, err := orderByString(ob)
		if err != nil {
			return nil, err
		}
		_, key, err := expIdentifier(pyStrip(v), mvOrderAttrs, mvOrderKeys)
		if err != nil {
			return nil, err
		}
		if !mvOrderAttrs[key] {
			return nil, invalid("Invalid order by key '%s' specified. Valid keys are %s", key, mvOrderKeys)
		}
		if seen[key] {
			return nil, duplicateOrderBy(orderBy)
		}
		seen[key] = true
		out = append(out, OrderKey{Entity: EntityAttribute, Key: key, Desc: !asc})
	}
	return out, nil
}

// ---- logged models ----

// loggedModelAttrs maps the attribute names MLflow's SQL store can compare
// (SqlLoggedModel columns, after its aliases) to the canonical key.
var loggedModelAttrs = map[string]string{
	"model_id": "model_id", "experiment_id": "experiment_id", "name": "name",
	"artifact_location": "artifact_location", "status": "status",
	"lifecycle_stage": "lifecycle_stage", "model_type": "model_type",
	"source_run_id": "source_run_id", "status_message": "status_message",
	"creation_timestamp_ms": "creation_timestamp", "last_updated_timestamp_ms": "last_updated_timestamp",
	"creation_timestamp": "creation_timestamp", "creation_time": "creation_timestamp",
	"last_updated_timestamp": "last_updated_timestamp",
}

// loggedModelAliases is SqlLoggedModel.ALIASES, applied to unprefixed keys.
var loggedModelAliases = map[string]string{
	"creation_time": "creation_timestamp_ms", "creation_timestamp": "creation_timestamp_ms",
	"last_updated_timestamp": "last_updated_timestamp_ms",
}

var loggedModelNumeric = set("creation_timestamp", "last_updated_timestamp")

// ParseLoggedModelFilter parses a logged-models/search filter
// (mlflow/utils/search_logged_model_utils.parse_filter_string).
//
// The recorded MLflow 3.6 server rejected any white space at the top level
// of the filter, so any `a AND b` (a bug of the old sqlparse it ran with;
// MLflow documents AND here and accepts it with a current sqlparse).
// mltrack accepts comparisons joined by AND, as documented
// (docs/compatibility.md). Quirks kept: operators are case-sensitive
// ("like" is rejected); string values only lose single quotes ("x" keeps
// its double quotes).
// Where MLflow answers 500 (unknown attribute, non-numeric value for a
// numeric field, malformed list), this answers 400.
func ParseLoggedModelFilter(filter string) ([]Comparison, error) {
	if filter == "" {
		return nil, nil
	}
	stmts := splitStatements(lex(filter))
	if len(stmts) != 1 {
		return nil, invalid("Invalid filter string: %s. Expected a single SQL expression.", pyRepr(filter))
	}
	var out []Comparison
	wantComp := true // comparisons and ANDs alternate
	for _, it := range group(stmts[0]) {
		switch {
		case !it.comp && it.tok.kind == kSpace:
			continue
		case it.comp && wantComp:
			c, err := loggedModelComparison(it)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
			wantComp = false
			continue
		case !it.comp && !wantComp && it.tok.word() == "AND":
			wantComp = true
			continue
		}
		return nil, invalid("Invalid filter string: %s. Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').", pyRepr(filter))
	}
	if wantComp && len(out) > 0 { // a trailing AND
		return nil, invalid("Invalid filter string: %s. Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').", pyRepr(filter))
	}
	return out, nil
}

func loggedModelComparison(it item) (Comparison, error) {
	ident, op, value := it.operand[0].text, it.op, it.operand[1].text
	c := Comparison{Entity: EntityAttribute, Op: op}
	typeName := "attributes"
	if e, k, ok := loggedModelEntity(ident); ok {
		switch e {
		case "attributes":
		case "metrics":
			c.Entity = EntityMetric
		case "params":
			c.Entity = EntityParam
		case "tags":
			c.Entity = EntityTag
		default:
			return Comparison{}, invalid("Invalid entity type: %s. Expected one of ['attributes', 'metrics', 'params', 'tags'].", pyRepr(e))
		}
		typeName = e
		c.Key = strings.Trim(k, "`")
	} else {
		k := ident
		if alias, ok := loggedModelAliases[ident]; ok {
			k = alias
		}
		c.Key = strings.Trim(k, "`")
	}
	rawKey := c.Key
	numeric := c.Entity == EntityMetric
	if c.Entity == EntityAttribute {
		canon, ok := loggedModelAttrs[c.Key]
		numeric = ok && loggedModelNumeric[canon]
		c.Key = canon
	}
	okOps := set("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
	if numeric {
		okOps = set("<", "<=", ">", ">=", "=", "!=")
	}
	if !okOps[op] {
		return Comparison{}, invalid("Invalid comparison operator for %s.%s: %s. Expected one of ('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN').", typeName, rawKey, pyRepr(op))
	}
	if c.Entity == EntityAttribute && c.Key == "" {
		return Comparison{}, invalid("Invalid attribute key '%s' specified for logged models.", rawKey)
	}
	if numeric {
		f, err := strconv.ParseFloat(strings.TrimFunc(value, pyIsSpace), 64)
		if err != nil {
			return Comparison{}, invalid("Expected numeric value type for %s.%s. Found %s", typeName, rawKey, value)
		}
		c.Value = Value{Num: f, IsNum: true, Str: value}
		return c, nil
	}
	if strings.HasPrefix(value, "(") && strings.HasSuffix(value, ")") {
		v, err := pyLiteralEval(value)
		if err != nil {
			return Comparison{}, invalid("While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.")
		}
		items := []pyValue{v}
		if v.kind == pyTuple {
			items = v.items
		}
		list := []string{}
		for _, it := range items {
			if it.kind == pyStr {
				list = append(list, it.s)
			} else {
				list = append(list, it.repr())
			}
		}
		c.Value = Value{List: list}
	} else {
		c.Value = Value{Str: strings.Trim(value, "'")}
	}
	if err := checkListOp(c); err != nil {
		return Comparison{}, err
	}
	return c, nil
}

// loggedModelEntity matches ^([a-z]+)\.(.+)$ (Entity.IDENTIFIER_RE).
func loggedModelEntity(s string) (string, string, bool) {
	s = strings.TrimSuffix(s, "\n")
	i := 0
	for i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != '.' || i+1 >= len(s) || strings.ContainsRune(s[i+1:], '\n') {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}
