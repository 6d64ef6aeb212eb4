package search

import (
	"encoding/base64"
	"strconv"
)

// EncodeOffsetToken is MLflow's page token: base64 of {"offset": N}.
func EncodeOffsetToken(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"offset": ` + strconv.Itoa(offset) + `}`))
}
