package search

import (
	"sort"
	"strings"
)

// Trace search (SearchTraceUtils): the entity types, their aliases and the
// attributes a filter and an order_by may name.
const (
	EntityRequestMetadata = "request_metadata"
	EntitySpan            = "span"
	EntityFeedback        = "feedback"
	EntityExpectation     = "expectation"
)

var (
	traceSearchAttrs = set("request_id", "timestamp", "timestamp_ms", "execution_time", "execution_time_ms",
		"end_time", "end_time_ms", "status", "client_request_id", "name", "run_id", "text")
	traceOrderAttrs = set("experiment_id", "timestamp", "timestamp_ms", "execution_time", "execution_time_ms",
		"end_time", "end_time_ms", "status", "request_id", "name", "run_id")
	traceNumericAttrs = set("timestamp_ms", "timestamp", "execution_time_ms", "execution_time", "end_time_ms", "end_time")
	traceInAttrs      = set("name", "status", "request_id", "run_id", "client_request_id")
	traceEntities     = map[string]string{
		"tag": EntityTag, "tags": EntityTag, "attribute": EntityAttribute, "attributes": EntityAttribute,
		"trace": EntityAttribute, "request_metadata": EntityRequestMetadata, "metadata": EntityRequestMetadata,
		"span": EntitySpan, "feedback": EntityFeedback, "expectation": EntityExpectation,
	}
	traceTagComps  = set("!=", "=", "LIKE", "ILIKE")
	traceSpanAttrs = set("name", "type", "status")
)

// pySetRepr writes a set of strings as Python prints it (order aside).
func pySetRepr(m map[string]bool) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, "'"+k+"'")
	}
	sort.Strings(ks)
	return "{" + strings.Join(ks, ", ") + "}"
}

// traceIdentifier is SearchTraceUtils._get_identifier with
// _replace_key_to_tag_or_metadata: name is the trace-name tag, run_id the
// source-run metadata, the time aliases their _ms attributes.
func traceIdentifier(ident string, attrs map[string]bool) (string, string, error) {
	entity, key, dotted := strings.Cut(ident, ".")
	typ := EntityAttribute
	if dotted {
		var ok bool
		if typ, ok = traceEntities[trimBackticks(entity)]; !ok {
			valid := map[string]bool{}
			for k := range traceEntities {
				valid[k] = true
			}
			return "", "", invalid("Invalid entity type '%s'. Valid values are %s", trimBackticks(entity), pySetRepr(valid))
		}
	} else {
		key = entity
	}
	k, _ := stripQuotes(key, false)
	key = trimBackticks(k)
	if typ == EntityAttribute && !attrs[key] {
		return "", "", invalid("Invalid attribute key '%s' specified. Valid keys are '%s'", key, pySetRepr(attrs))
	}
	if typ == EntitySpan {
		return typ, key, nil
	}
	switch strings.ToLower(key) {
	case "name":
		return EntityTag, "mlflow.traceName", nil
	case "run_id":
		return EntityRequestMetadata, "mlflow.sourceRun", nil
	case "text":
		return EntitySpan, "content", nil
	case "timestamp", "execution_time", "end_time":
		return typ, strings.ToLower(key) + "_ms", nil
	}
	return typ, key, nil
}

// ParseTraceSearch parses a traces/search filter and order_by.
func ParseTraceSearch(filter string, orderBy []string) ([]Comparison, []OrderKey, error) {
	cs, err := ParseTraceFilter(filter)
	if err != nil {
		return nil, nil, err
	}
	ob, err := ParseTraceOrderBy(orderBy)
	return cs, ob, err
}

// ParseTraceFilter parses a traces/search filter (SearchTraceUtils).
func ParseTraceFilter(filter string) ([]Comparison, error) {
	if filter == "" {
		return nil, nil
	}
	items, err := parseStatement(filter)
	if err != nil {
		return nil, err
	}
	cs, err := comparisons(items, true)
	if err != nil {
		return nil, err
	}
	out := make([]Comparison, 0, len(cs))
	for _, c := range cs {
		ident, err := leftIdentifier(c)
		if err != nil {
			return nil, err
		}
		rawKey := ident
		if _, k, ok := strings.Cut(ident, "."); ok {
			rawKey = k
		}
		typ, key, err := traceIdentifier(ident, traceSearchAttrs)
		if err != nil {
			return nil, err
		}
		op := strings.ToUpper(c.op)
		v, err := traceValue(typ, key, rawKey, op, c.operand[1])
		if err != nil {
			return nil, err
		}
		if err := checkTraceComparator(typ, key, op); err != nil {
			return nil, err
		}
		if isList := v.List != nil; isList != (op == "IN" || op == "NOT IN") {
			if isList {
				return nil, invalid("Invalid comparator '%s' for a list of values: only IN and NOT IN take one", op)
			}
			return nil, invalid("Expected a list of quoted string values for the %s comparator. Got value %s", op, c.operand[1].text)
		}
		out = append(out, Comparison{Entity: typ, Key: key, Op: op, Value: v})
	}
	return out, nil
}

// traceValue is SearchTraceUtils._get_value.
func traceValue(typ, key, rawKey, op string, t token) (Value, error) {
	if t.kind == kParen {
		if typ == EntityAttribute && !traceInAttrs[key] && !traceInAttrs[strings.ToLower(pyStrip(rawKey))] {
			return Value{}, invalid("Only attributes in %s supports comparison with a list of quoted string values.", pySetRepr(traceInAttrs))
		}
		items, err := literalStrings(t.text)
		if err != nil {
			return Value{}, err
		}
		if items == nil {
			items = []string{}
		}
		return Value{List: items}, nil
	}
	if typ == EntityAttribute && traceNumericAttrs[key] {
		if !isNumberValue(t) {
			return Value{}, invalid("Expected numeric value type for numeric attribute: %s. Found %s", key, t.text)
		}
		return numValue(t), nil
	}
	if !isStringValue(t) {
		name := typ
		if typ == EntityRequestMetadata {
			name = "request_metadata"
		}
		return Value{}, invalid("Expected a quoted string value for %s (e.g. 'my-value'). Got value %s", name, t.text)
	}
	s, err := stripQuotes(t.text, true)
	return Value{Str: s}, err
}

// checkTraceComparator is the comparator check of each entity; RLIKE
// (regular expressions) is refused (docs/compatibility.md).
func checkTraceComparator(typ, key, op string) error {
	if op == "RLIKE" {
		return invalid("The RLIKE comparator is not supported by this server.")
	}
	switch typ {
	case EntityTag, EntityRequestMetadata:
		if !traceTagComps[op] {
			return invalid("Invalid comparator '%s' not one of '%s'", op, pySetRepr(set("!=", "=", "LIKE", "ILIKE", "RLIKE")))
		}
	case EntitySpan:
		switch {
		case key == "content":
			if op != "LIKE" && op != "ILIKE" {
				return invalid("span.%s comparator '%s' not one of '%s'", key, op, pySetRepr(set("LIKE", "ILIKE")))
			}
		case traceSpanAttrs[key]:
			if !stringAttrComps[op] {
				return invalid("span.%s comparator '%s' not one of '%s'", key, op, pySetRepr(stringAttrComps))
			}
		default:
			return invalid("Invalid span attribute '%s'. Supported attributes: name, status, type.", key)
		}
	case EntityFeedback, EntityExpectation:
		if key == "" {
			return invalid("Assessment field name cannot be empty")
		}
		if !stringAttrComps[op] {
			return invalid("assessment.%s comparator '%s' not one of '%s'", key, op, pySetRepr(stringAttrComps))
		}
	default:
		if traceNumericAttrs[key] {
			if !metricComps[op] {
				return invalid("Invalid comparator '%s' not one of '%s'", op, pySetRepr(metricComps))
			}
		} else if !stringAttrComps[op] {
			return invalid("Invalid comparator '%s' not one of '%s'", op, pySetRepr(stringAttrComps))
		}
	}
	return nil
}

// ParseTraceOrderBy parses traces/search order_by entries.
func ParseTraceOrderBy(orderBy []string) ([]OrderKey, error) {
	var out []OrderKey
	for _, ob := range orderBy {
		v, asc, err := orderByString(ob)
		if err != nil {
			return nil, err
		}
		typ, key, err := traceIdentifier(pyStrip(v), traceOrderAttrs)
		if err != nil {
			return nil, err
		}
		if typ != EntityAttribute && typ != EntityTag && typ != EntityRequestMetadata {
			return nil, invalid("Invalid order_by entity `%s` with key `%s`", typ, key)
		}
		out = append(out, OrderKey{Entity: typ, Key: key, Desc: !asc})
	}
	return out, nil
}
