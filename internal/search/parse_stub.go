package search

import (
	"encoding/base64"
	"encoding/json"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// Placeholders until the full grammar lands: they accept only empty input.

func stubFilter(filter string) ([]Comparison, error) {
	if filter == "" {
		return nil, nil
	}
	return nil, mlflow.InvalidParam("search filters are not supported yet")
}

func stubOrder(orderBy []string) ([]OrderKey, error) {
	if len(orderBy) == 0 {
		return nil, nil
	}
	return nil, mlflow.InvalidParam("order_by is not supported yet")
}

// ParseExperimentFilter parses an experiments/search filter.
func ParseExperimentFilter(filter string) ([]Comparison, error) { return stubFilter(filter) }

// ParseExperimentOrderBy parses experiments/search order_by.
func ParseExperimentOrderBy(orderBy []string) ([]OrderKey, error) { return stubOrder(orderBy) }

// ParseRunFilter parses a runs/search filter.
func ParseRunFilter(filter string) ([]Comparison, error) { return stubFilter(filter) }

// ParseRunOrderBy parses runs/search order_by.
func ParseRunOrderBy(orderBy []string) ([]OrderKey, error) { return stubOrder(orderBy) }

// DecodeOffsetToken decodes a page token; "" is offset 0.
func DecodeOffsetToken(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	b, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return 0, mlflow.InvalidParam("Invalid page token, could not base64-decode")
	}
	var v struct{ Offset int }
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, mlflow.InvalidParam("Invalid page token")
	}
	return v.Offset, nil
}
