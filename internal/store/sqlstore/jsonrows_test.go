package sqlstore

import (
	"database/sql"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mltrack/mltrack/internal/sqlitedriver" // registers the "sqlite" driver
)

func TestEachJSONRow(t *testing.T) {
	tests := []struct {
		name string
		text string
		n    int
		want [][]jsonValue
		err  bool
	}{
		{name: "empty", text: `[]`, n: 2},
		{name: "plain", text: `[["a","b"],["c",null]]`, n: 2, want: [][]jsonValue{{{text: "a"}, {text: "b"}}, {{text: "c"}, {null: true}}}},
		{name: "numbers", text: `[["loss",0.30000000000000004,1700000000000,-3,0]]`, n: 5,
			want: [][]jsonValue{{{text: "loss"}, {text: "0.30000000000000004"}, {text: "1700000000000"}, {text: "-3"}, {text: "0"}}}},
		{name: "escapes", text: `[["q\"b\\s\/\n\t\r\b\f\u0001","\ud83d\ude00 é"]]`, n: 2,
			want: [][]jsonValue{{{text: "q\"b\\s/\n\t\r\b\f\x01"}, {text: "😀 é"}}}},
		{name: "short row", text: `[["a"]]`, n: 2, err: true},
		{name: "long row", text: `[["a","b","c"]]`, n: 2, err: true},
		{name: "unterminated string", text: `[["a`, n: 1, err: true},
		{name: "bad escape", text: `[["\x"]]`, n: 1, err: true},
		{name: "trailing", text: `[["a"]]x`, n: 1, err: true},
		{name: "not an array", text: `{}`, n: 1, err: true},
		{name: "empty text", text: ``, n: 1, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]jsonValue
			err := eachJSONRow(tt.text, tt.n, func(v []jsonValue) error {
				got = append(got, slices.Clone(v))
				return nil
			})
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err == nil && !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestJSONValueNumbers(t *testing.T) {
	for _, tt := range []struct {
		text string
		f    float64
		i    int64
		iErr bool
	}{
		{"0", 0, 0, false},
		{"12.0", 12, 12, false},
		{"-7", -7, -7, false},
		{"1.5", 1.5, 0, true},
		{"9.0e+999", math.Inf(1), 0, true},
		{"-9.0e+999", math.Inf(-1), 0, true},
		{"4.9406564584124654e-324", 5e-324, 0, true},
	} {
		v := jsonValue{text: tt.text}
		if f, err := v.float(); err != nil || f != tt.f {
			t.Errorf("float(%s) = %v, %v; want %v", tt.text, f, err, tt.f)
		}
		if i, err := v.int(); (err != nil) != tt.iErr || err == nil && i != tt.i {
			t.Errorf("int(%s) = %v, %v; want %v (error %v)", tt.text, i, err, tt.i, tt.iErr)
		}
	}
}

// FuzzJSONRows checks that what SQLite's json_group_array(json_array(...))
// writes reads back exactly as the row itself: any text, any float.
func FuzzJSONRows(f *testing.F) {
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (k TEXT, v TEXT, x REAL)`); err != nil {
		f.Fatal(err)
	}
	f.Add("a", "b", 0.1)
	f.Add("\"\\\n\x00\x1f\u2028", "\xff\xfe not utf-8 \"", -1e300)
	f.Add("😀", "", 5e-324)
	f.Add(strings.Repeat("x", 300), "\t", math.MaxFloat64)
	f.Fuzz(func(t *testing.T, k, v string, x float64) {
		if math.IsNaN(x) { // SQLite stores NaN as NULL; metrics keep NaN in is_nan
			return
		}
		if _, err := db.Exec(`DELETE FROM t`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO t VALUES (?, ?, ?), (?, ?, ?)`, k, v, x, v, k, -x); err != nil {
			t.Fatal(err)
		}
		var want [][3]string
		var wantX []float64
		rows, err := db.Query(`SELECT k, v, x FROM t ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b string
			var c float64
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			want = append(want, [3]string{a, b})
			wantX = append(wantX, c)
		}
		rows.Close()
		// The cgo build's text of a REAL is not always exact: its readers
		// take REAL columns as values, and this checks the text columns.
		cols, n := "k, v, x", 3
		if !sqlitedriver.ExactRealText {
			cols, n = "k, v", 2
		}
		var text string
		if err := db.QueryRow(`SELECT json_group_array(json_array(` + cols + `)) FROM (SELECT * FROM t ORDER BY rowid)`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		i := 0
		err = eachJSONRow(text, n, func(vals []jsonValue) error {
			x := wantX[i]
			if n == 3 {
				var err error
				if x, err = vals[2].float(); err != nil {
					return err
				}
			}
			if vals[0].text != want[i][0] || vals[1].text != want[i][1] || x != wantX[i] {
				t.Fatalf("row %d: got %q %q %v, want %q %q %v (from %s)", i, vals[0].text, vals[1].text, x, want[i][0], want[i][1], wantX[i], text)
			}
			i++
			return nil
		})
		if err != nil || i != len(want) {
			t.Fatalf("%d rows of %d read, err %v, from %s", i, len(want), err, text)
		}
	})
}
