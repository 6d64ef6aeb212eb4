// Package search parses MLflow's search filters and order_by clauses and
// encodes page tokens. It knows nothing of SQL.
package search

// Comparison is one `<entity>.<key> <op> <value>` clause; a filter is an AND
// of them.
type Comparison struct {
	Entity string // "attribute", "metric", "param", "tag", "dataset"
	Key    string
	Op     string // "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"
	Value  Value
}

// Value is a comparison's right-hand side.
type Value struct {
	Str   string
	Num   float64
	IsNum bool
	List  []string
}

// OrderKey is one order_by key.
type OrderKey struct {
	Entity, Key string
	Desc        bool
}
