package search

import (
	"math"
	"reflect"
	"testing"
)

// TestRunToken checks that a token with a cursor reads back as the same
// cursor, that MLflow's reading of it (the offset) is the page's offset,
// and that tokens without a cursor (MLflow's, garbage) have none.
func TestRunToken(t *testing.T) {
	st := int64(1700000000123)
	for _, c := range []RunCursor{
		{Query: "q1", HasMetric: true, Value: 0.1, StartTime: &st, RunID: "a"},
		{Query: "q1", HasMetric: true, Value: -math.MaxFloat64, RunID: "b"},
		{Query: "q1", HasMetric: true, IsNaN: true, StartTime: &st, RunID: "c"},
		{Query: "q1", HasMetric: true, Value: 5.992310449541053e+307, StartTime: &st, RunID: "c"},
		{Query: "q2", StartTime: &st, RunID: "d"},
		{Query: "q2", RunID: "e"},
	} {
		tok := EncodeRunToken(300, c)
		off, err := DecodeOffsetToken(tok)
		if err != nil || off != 300 {
			t.Fatalf("%s: offset %d, %v", tok, off, err)
		}
		got := DecodeRunCursor(tok)
		if got == nil || !reflect.DeepEqual(*got, c) {
			t.Fatalf("%s: cursor %+v, want %+v", tok, got, c)
		}
	}
	for _, tok := range []string{"", EncodeOffsetToken(5), "not base64!", "eyJvZmZzZXQiOiA1LCAicSI6ICJ4In0=" /* no id */} {
		if c := DecodeRunCursor(tok); c != nil {
			t.Fatalf("%q: cursor %+v", tok, c)
		}
	}
	if QueryFingerprint([]string{"1"}, "a") == QueryFingerprint([]string{"1"}, "b") {
		t.Fatal("fingerprints of different searches are equal")
	}
}
