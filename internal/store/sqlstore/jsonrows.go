package sqlstore

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// One row per run instead of one per value (SQLite). Reading a row through
// database/sql and the pure-Go SQLite driver costs about a microsecond of
// calls and allocations per row; a run's 500 params cost more in those
// calls than in SQLite's own work. So on SQLite the params, tags and latest
// metrics of runs are read as one JSON text per run, built by SQLite with
// json_group_array(json_array(...)), and walked here. SQLite writes REAL
// values with enough digits to round-trip, so nothing is lost.

// jsonValue is one element of an inner array: a string (unquoted), a
// number (as written) or null.
type jsonValue struct {
	text string
	null bool
}

func (v jsonValue) float() (float64, error) {
	if v.null {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v.text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // 9e999 is SQLite's infinity
		return 0, err
	}
	return f, nil
}

// bool reads a boolean as SQLite writes it (1), or true.
func (v jsonValue) bool() bool { return v.text == "1" || v.text == "true" }

func (v jsonValue) int() (int64, error) {
	if v.null {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.text, 10, 64)
	if err != nil { // an integer stored in a REAL column is written 12.0
		f, ferr := strconv.ParseFloat(v.text, 64)
		if ferr != nil || f != math.Trunc(f) {
			return 0, err
		}
		return int64(f), nil
	}
	return n, nil
}

// eachJSONRow walks a JSON array of arrays of n strings, numbers or nulls,
// as json_group_array(json_array(...)) writes it, and calls fn with each
// inner array (vals is reused between calls).
func eachJSONRow(text string, n int, fn func(vals []jsonValue) error) error {
	vals := make([]jsonValue, n)
	p := jsonWalker{s: text}
	if !p.eat('[') {
		return p.fail("an array")
	}
	if p.eat(']') {
		return p.end()
	}
	for {
		if !p.eat('[') {
			return p.fail("an inner array")
		}
		for i := range n {
			if i > 0 && !p.eat(',') {
				return p.fail("','")
			}
			v, err := p.value()
			if err != nil {
				return err
			}
			vals[i] = v
		}
		if !p.eat(']') {
			return p.fail("']'")
		}
		if err := fn(vals); err != nil {
			return err
		}
		if p.eat(']') {
			return p.end()
		}
		if !p.eat(',') {
			return p.fail("',' or ']'")
		}
	}
}

type jsonWalker struct {
	s string
	i int
}

func (p *jsonWalker) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonWalker) end() error {
	if p.i != len(p.s) {
		return p.fail("the end")
	}
	return nil
}

func (p *jsonWalker) fail(want string) error {
	return fmt.Errorf("store: reading SQLite JSON: want %s at offset %d of %d", want, p.i, len(p.s))
}

func (p *jsonWalker) value() (jsonValue, error) {
	if p.i >= len(p.s) {
		return jsonValue{}, p.fail("a value")
	}
	switch c := p.s[p.i]; {
	case c == '"':
		start := p.i
		p.i++
		escaped := false
		for p.i < len(p.s) {
			switch p.s[p.i] {
			case '\\':
				escaped = true
				p.i += 2
				continue
			case '"':
				p.i++
				raw := p.s[start:p.i]
				if !escaped {
					return jsonValue{text: raw[1 : len(raw)-1]}, nil
				}
				out, err := unescapeJSON(raw[1 : len(raw)-1])
				if err != nil {
					return jsonValue{}, err
				}
				return jsonValue{text: out}, nil
			}
			p.i++
		}
		return jsonValue{}, p.fail("the end of a string")
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return jsonValue{null: true}, nil
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[p.i]) >= 0 {
			p.i++
		}
		return jsonValue{text: p.s[start:p.i]}, nil
	}
	return jsonValue{}, p.fail("a string, number or null")
}

// unescapeJSON undoes the escapes of a JSON string's body and leaves every
// other byte as it is (invalid UTF-8 included, as a row would have it).
func unescapeJSON(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", errBadEscape
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b.WriteByte(s[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				return "", errBadEscape
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, i+3); ok && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			b.WriteRune(r)
		default:
			return "", errBadEscape
		}
	}
	return b.String(), nil
}

var errBadEscape = errors.New("store: reading SQLite JSON: bad escape in a string")

func hex4(s string, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[at:at+4], 16, 16)
	return rune(n), err == nil
}
