// Package search parses MLflow's search filter and order_by strings and its
// offset page tokens into a small AST, accepting what MLflow 3.6 accepts and
// rejecting the rest with MLflow's error code and message. It does no SQL
// and no I/O: the store compiles the AST.
//
// lexer.go holds the grammar: a small lexer and a grouping pass that finds
// the comparisons in a filter. The validation on top follows MLflow's
// mlflow/utils/search_utils.py and the comparator checks of its SQL stores,
// both in MLflow's order, so one call returns the error MLflow's server
// would.
//
// Python set literals inside MLflow's messages print in an order that
// depends on the server process's hash seed; where api_cases.jsonl recorded
// one, that order is used, elsewhere the order of MLflow's source.
package search

// Entity names used in Comparison.Entity and OrderKey.Entity.
const (
	EntityAttribute = "attribute"
	EntityMetric    = "metric"
	EntityParam     = "param"
	EntityTag       = "tag"
	EntityDataset   = "dataset"
)

// Comparison is one `<entity>.<key> <op> <value>` clause; a filter is an AND of them.
type Comparison struct {
	// Entity is "attribute", "metric", "param", "tag" or "dataset" (runs);
	// experiments, registered models and model versions: "attribute", "tag";
	// logged models: "attribute", "metric", "param", "tag".
	Entity string
	// Key is the metric/param/tag key, or for attributes the canonical name:
	// runs: run_id, run_name, user_id, status, start_time (alias created,
	// Created), end_time, artifact_uri (aliases "run name" etc. -> run_name);
	// datasets: name, digest, context; experiments: name, creation_time,
	// last_update_time; registered models: name; model versions: name,
	// version_number, run_id, source_path; logged models: model_id,
	// experiment_id, name, artifact_location, creation_timestamp (aliases
	// creation_time, creation_timestamp_ms), last_updated_timestamp
	// (alias last_updated_timestamp_ms), status, lifecycle_stage,
	// model_type, source_run_id, status_message.
	Key string
	// Op is "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN" or "NOT IN".
	Op    string
	Value Value
}

// Value is a comparison's right-hand side: a list for IN / NOT IN, a number
// for metrics and numeric attributes, a string otherwise.
type Value struct {
	// Str is the string value, quotes removed but otherwise as written
	// (MLflow does not unescape '' or \' inside it).
	Str string
	// Num is the numeric value when IsNum.
	Num   float64
	IsNum bool
	// List holds the strings of an IN / NOT IN list. For run_id and dataset
	// lists MLflow drops entries that are not all lower case (Python's
	// str.islower), and so does this package.
	List []string
}

// OrderKey is one order_by entry.
type OrderKey struct {
	Entity, Key string
	Desc        bool
}
