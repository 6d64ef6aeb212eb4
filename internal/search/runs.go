package search

import "strings"

// ParseRunFilter parses a runs/search filter (SearchUtils.parse_search_filter
// followed by the comparator checks of the SQL store).
func ParseRunFilter(filter string) ([]Comparison, error) {
	raw, err := parseRunFilterRaw(filter)
	if err != nil {
		return nil, err
	}
	return checkRunComparisons(raw)
}

// ParseRunSearch parses a runs/search filter and order_by together and
// returns the first error in MLflow's order: filter syntax, then order_by,
// then the filter's comparators (the SQL store checks those last).
func ParseRunSearch(filter string, orderBy []string) ([]Comparison, []OrderKey, error) {
	raw, err := parseRunFilterRaw(filter)
	if err != nil {
		return nil, nil, err
	}
	keys, err := ParseRunOrderBy(orderBy)
	if err != nil {
		return nil, nil, err
	}
	comps, err := checkRunComparisons(raw)
	if err != nil {
		return nil, nil, err
	}
	return comps, keys, nil
}

func parseRunFilterRaw(filter string) ([]rawComp, error) {
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
	var out []rawComp
	for _, c := range cs {
		ident, err := leftIdentifier(c)
		if err != nil {
			return nil, err
		}
		typ, key, err := runIdentifier(ident, runSearchAttrs, runSearchKeys)
		if err != nil {
			return nil, err
		}
		v, err := runValue(typ, key, c.operand[1])
		if err != nil {
			return nil, err
		}
		out = append(out, rawComp{typ: typ, key: key, comp: c.op, val: v})
	}
	return out, nil
}

// runEntityType is SearchUtils._valid_entity_type.
func runEntityType(e string) (string, error) {
	e = trimBackticks(e)
	switch e {
	case "metric", "metrics":
		return "metric", nil
	case "parameter", "parameters", "param", "params":
		return "parameter", nil
	case "tag", "tags":
		return "tag", nil
	case "attribute", "attr", "attributes", "run":
		return "attribute", nil
	case "dataset", "datasets":
		return "dataset", nil
	}
	return "", invalid("Invalid entity type '%s'. Valid values are %s", e, entityTypesList)
}

// runIdentifier is SearchUtils._get_identifier.
func runIdentifier(ident string, attrs map[string]bool, attrsRepr string) (string, string, error) {
	typ := "attribute"
	entity, key, dotted := splitDot(ident)
	if dotted {
		var err error
		if typ, err = runEntityType(entity); err != nil {
			return "", "", err
		}
	}
	k, _ := stripQuotes(key, false)
	key = trimBackticks(k)
	if typ == "attribute" && !attrs[key] {
		return "", "", invalid("Invalid attribute key '%s' specified. Valid keys are '%s'", key, attrsRepr)
	}
	if typ == "dataset" && !datasetKeys[key] {
		return "", "", invalid("Invalid dataset key '%s' specified. Valid keys are '%s'", key, datasetKeysSet)
	}
	return typ, key, nil
}

// runValue is SearchUtils._get_value.
func runValue(typ, key string, t token) (Value, error) {
	switch typ {
	case "metric":
		if !isNumberValue(t) {
			return Value{}, invalid("Expected numeric value type for metric. Found %s", t.text)
		}
		return numValue(t), nil
	case "parameter", "tag":
		if isStringValue(t) {
			s, err := stripQuotes(t.text, true)
			return Value{Str: s}, err
		}
		return Value{}, invalid("Expected a quoted string value for %s (e.g. 'my-value'). Got value %s", typ, t.text)
	case "attribute":
		switch {
		case runNumericAttrs[key]:
			if !isNumberValue(t) {
				return Value{}, invalid("Expected numeric value type for numeric attribute: %s. Found %s", key, t.text)
			}
			return numValue(t), nil
		case isStringValue(t):
			s, err := stripQuotes(t.text, true)
			return Value{Str: s}, err
		case t.kind == kParen:
			if key != "run_id" {
				return Value{}, invalid("Only the 'run_id' attribute supports comparison with a list of quoted string values.")
			}
			return runIDs(t)
		}
		return Value{}, invalid("Expected a quoted string value for attributes. Got value %s", t.text)
	default: // dataset
		switch {
		case isStringValue(t):
			s, err := stripQuotes(t.text, true)
			return Value{Str: s}, err
		case t.kind == kParen:
			return runIDs(t)
		}
		return Value{}, invalid("Expected a quoted string value for dataset attributes. Got value %s", t.text)
	}
}

// translateKeyAlias is SearchUtils.translate_key_alias.
func translateKeyAlias(key string) string {
	switch key {
	case "created", "Created":
		return "start_time"
	case "run name", "Run name", "Run Name":
		return "run_name"
	}
	return key
}

// checkRunComparisons is the SQL store's _get_sqlalchemy_filter_clauses:
// comparator checks per entity, and the AST.
func checkRunComparisons(raw []rawComp) ([]Comparison, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make([]Comparison, 0, len(raw))
	for _, r := range raw {
		op := strings.ToUpper(r.comp)
		key := translateKeyAlias(r.key)
		c := Comparison{Key: key, Op: op, Value: r.val}
		switch r.typ {
		case "attribute":
			c.Entity = EntityAttribute
			if runNumericAttrs[key] {
				if !metricComps[op] {
					return nil, invalid("Invalid comparator '%s' not one of '%s", op, stringAttrCompSet)
				}
			} else if !stringAttrComps[op] {
				return nil, invalid("Invalid comparator '%s' not one of '%s'", op, stringAttrCompSet)
			}
		case "metric":
			c.Entity = EntityMetric
			if !metricComps[op] {
				return nil, invalid("Invalid comparator '%s' not one of '%s", op, metricCompSet)
			}
		case "parameter":
			c.Entity = EntityParam
			if !paramComps[op] {
				return nil, invalid("Invalid comparator '%s' not one of '%s'", op, paramCompSet)
			}
		case "tag":
			c.Entity = EntityTag
			if !paramComps[op] {
				return nil, invalid("Invalid comparator '%s' not one of '%s", op, paramCompSet)
			}
		case "dataset":
			c.Entity = EntityDataset
			if !stringAttrComps[op] {
				return nil, invalid("Invalid comparator '%s' not one of '%s", op, datasetCompSet)
			}
		}
		if err := checkListOp(c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// checkListOp rejects a list compared with anything but IN / NOT IN and
// IN / NOT IN with a single value. MLflow hands both to SQLAlchemy, which
// fails with a 500 or compares nonsense; a 400 serves clients better.
func checkListOp(c Comparison) error {
	isIn := c.Op == "IN" || c.Op == "NOT IN"
	if c.Value.List != nil && !isIn {
		return invalid("Comparator '%s' cannot be used with a list of values for %s '%s'.", c.Op, c.Entity, c.Key)
	}
	if c.Value.List == nil && isIn {
		return invalid("Comparator '%s' expects a list of quoted string values for %s '%s'.", c.Op, c.Entity, c.Key)
	}
	return nil
}

// ParseRunOrderBy parses runs/search order_by entries
// (parse_order_by_for_search_runs and the SQL store's checks).
func ParseRunOrderBy(orderBy []string) ([]OrderKey, error) {
	var out []OrderKey
	seen := map[[2]string]bool{}
	for _, ob := range orderBy {
		v, asc, err := orderByString(ob)
		if err != nil {
			return nil, err
		}
		typ, key, err := runIdentifier(pyStrip(v), runOrderAttrs, runOrderKeys)
		if err != nil {
			return nil, err
		}
		key = translateKeyAlias(key)
		var entity string
		switch typ {
		case "attribute":
			entity = EntityAttribute
		case "metric":
			entity = EntityMetric
		case "tag":
			entity = EntityTag
		case "parameter":
			entity = EntityParam
		default:
			return nil, invalid("Invalid identifier type '%s'", typ)
		}
		if seen[[2]string{typ, key}] {
			return nil, duplicateOrderBy(orderBy)
		}
		seen[[2]string{typ, key}] = true
		out = append(out, OrderKey{Entity: entity, Key: key, Desc: !asc})
	}
	return out, nil
}
