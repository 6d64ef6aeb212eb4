package search

import "strings"

// Evaluation dataset search keys (SearchEvaluationDatasetsUtils).
var (
	datasetSearchAttrs  = set("name", "created_time", "last_update_time", "created_by", "last_updated_by")
	datasetOrderAttrs   = set("name", "created_time", "last_update_time")
	datasetNumericAttrs = set("created_time", "last_update_time")
)

// datasetIdentifier is SearchEvaluationDatasetsUtils._get_identifier: a
// bare attribute name or "tags.<key>".
func datasetIdentifier(ident string, attrs map[string]bool, attrsRepr string) (string, string, error) {
	entity, key, dotted := strings.Cut(ident, ".")
	if !dotted {
		if !attrs[ident] {
			return "", "", invalid("Invalid attribute key '%s' specified. Valid keys are: %s", ident, attrsRepr)
		}
		return EntityAttribute, ident, nil
	}
	if entity != "tags" {
		return "", "", invalid("Invalid identifier token '%s' specified", entity)
	}
	k, _ := stripQuotes(key, false)
	return EntityTag, trimBackticks(k), nil
}

const (
	datasetSearchKeys = "{'name', 'created_time', 'last_update_time', 'created_by', 'last_updated_by'}"
	datasetOrderKeys  = "{'name', 'created_time', 'last_update_time'}"
)

// ParseDatasetFilter parses a datasets/search filter_string.
func ParseDatasetFilter(filter string) ([]Comparison, error) {
	cs, err := filterComparisons(filter)
	if err != nil {
		return nil, err
	}
	var out []Comparison
	for _, c := range cs {
		ident, err := leftIdentifier(c)
		if err != nil {
			return nil, err
		}
		entity, key, err := datasetIdentifier(ident, datasetSearchAttrs, datasetSearchKeys)
		if err != nil {
			return nil, err
		}
		t := c.operand[1]
		cmp := Comparison{Entity: entity, Key: key, Op: strings.ToUpper(c.op)}
		switch {
		case entity == EntityAttribute && datasetNumericAttrs[key]:
			if !isNumberValue(t) {
				return nil, invalid("Expected numeric value type for numeric attribute: %s. Found %s", key, t.text)
			}
			cmp.Value = numValue(t)
			if !metricComps[cmp.Op] {
				return nil, invalid("Invalid comparator for numeric attribute: %s", cmp.Op)
			}
		default:
			if !isStringValue(t) {
				return nil, invalid("Expected a quoted string value for %s (e.g. 'my-value'). Got value %s", entity, t.text)
			}
			if cmp.Value.Str, err = stripQuotes(t.text, true); err != nil {
				return nil, err
			}
			if !paramComps[cmp.Op] {
				if entity == EntityTag {
					return nil, invalid("Invalid comparator for tag: %s", cmp.Op)
				}
				return nil, invalid("Invalid comparator for string attribute: %s", cmp.Op)
			}
		}
		out = append(out, cmp)
	}
	return out, nil
}

// ParseDatasetOrderBy parses datasets/search order_by entries.
func ParseDatasetOrderBy(orderBy []string) ([]OrderKey, error) {
	var out []OrderKey
	for _, ob := range orderBy {
		v, asc, err := orderByString(ob)
		if err != nil {
			return nil, err
		}
		entity, key, err := datasetIdentifier(pyStrip(v), datasetOrderAttrs, datasetOrderKeys)
		if err != nil {
			return nil, err
		}
		if entity != EntityAttribute {
			return nil, invalid("Invalid order_by entity: %s", entity)
		}
		out = append(out, OrderKey{Entity: EntityAttribute, Key: key, Desc: !asc})
	}
	return out, nil
}
