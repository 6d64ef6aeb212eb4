package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// endpoint defines an MLflow endpoint declaratively: Req is a struct whose
// fields say where each value comes from and MLflow's rules for it, fn maps
// the request to the answer, and errors are written once by writeError.
//
// Field tags:
//   - `json:"name"`: a request field, read as MLflow's handlers read it
//     (query string of a GET or DELETE without a body, else the JSON body),
//     with MLflow's type errors. string, *string, int64, *int64, bool,
//     []string and any JSON-decodable type (structs, maps, json.RawMessage).
//   - `path:"name"`: a path value of the route pattern.
//   - `rules:"required,max=N,maxval=N"`: required (missing or empty is
//     MLflow's "Missing value for required parameter"), a maximum length
//     in characters for strings, a maximum value for integers.
//
// Adding an endpoint is then a route line and a function:
//
//	{"POST", "traces/search", endpoint(a.searchTraces)}
func endpoint[Req any](fn func(ctx context.Context, req *Req) (any, error)) http.Handler {
	fields := requestFields(reflect.TypeFor[Req]())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decodeRequest(r, reflect.ValueOf(&req).Elem(), fields); err != nil {
			writeError(w, r, err)
			return
		}
		v, err := fn(r.Context(), &req)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, v)
	})
}

// requestField is one field of a request struct and its rules.
type requestField struct {
	index    int
	name     string
	path     bool
	required bool
	maxLen   int
	maxVal   int64
	hasMax   bool
}

// requestFields reads the tags of a request struct; a bad tag is a
// programming error and panics when the route is built.
func requestFields(t reflect.Type) []requestField {
	var out []requestField
	for i := range t.NumField() {
		f := t.Field(i)
		rf := requestField{index: i}
		if p, ok := f.Tag.Lookup("path"); ok {
			rf.name, rf.path = p, true
		} else if j, ok := f.Tag.Lookup("json"); ok {
			rf.name, _, _ = strings.Cut(j, ",")
		} else {
			continue
		}
		for _, rule := range strings.Split(f.Tag.Get("rules"), ",") {
			k, v, _ := strings.Cut(rule, "=")
			switch k {
			case "":
			case "required":
				rf.required = true
			case "max":
				n, err := strconv.Atoi(v)
				if err != nil {
					panic(fmt.Sprintf("api: bad rule %q on %s.%s", rule, t.Name(), f.Name))
				}
				rf.maxLen = n
			case "maxval":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					panic(fmt.Sprintf("api: bad rule %q on %s.%s", rule, t.Name(), f.Name))
				}
				rf.maxVal, rf.hasMax = n, true
			default:
				panic(fmt.Sprintf("api: unknown rule %q on %s.%s", rule, t.Name(), f.Name))
			}
		}
		out = append(out, rf)
	}
	return out
}

var (
	stringType    = reflect.TypeFor[string]()
	stringPtrType = reflect.TypeFor[*string]()
	int64Type     = reflect.TypeFor[int64]()
	int64PtrType  = reflect.TypeFor[*int64]()
	stringsType   = reflect.TypeFor[[]string]()
)

// decodeRequest fills v (a request struct) from r with the field rules.
func decodeRequest(r *http.Request, v reflect.Value, fields []requestField) error {
	var p *params
	for _, f := range fields {
		dst := v.Field(f.index)
		if f.path {
			s := r.PathValue(f.name)
			if f.required && s == "" {
				return mlflow.MissingParam(f.name)
			}
			dst.SetString(s)
			continue
		}
		if p == nil {
			var err error
			if p, err = readParams(r); err != nil {
				return err
			}
		}
		present := false
		switch dst.Type() {
		case stringType, stringPtrType:
			_, ok := p.raw(f.name)
			s, err := p.str(f.name)
			if err != nil {
				return err
			}
			if f.required && s == "" {
				return mlflow.MissingParam(f.name)
			}
			if f.maxLen > 0 {
				if err := mlflow.ValidateLength(f.name, s, f.maxLen); err != nil {
					return err
				}
			}
			if dst.Type() == stringType {
				dst.SetString(s)
			} else if ok {
				dst.Set(reflect.ValueOf(&s))
			}
			continue
		case int64Type, int64PtrType:
			n, ok, err := p.int64Field(f.name)
			if err != nil {
				return err
			}
			if ok && f.hasMax && n > f.maxVal {
				raw, _ := p.raw(f.name)
				return typeError(f.name, raw)
			}
			present = ok
			if dst.Type() == int64Type {
				dst.SetInt(n)
			} else if ok {
				dst.Set(reflect.ValueOf(&n))
			}
		case stringsType:
			list, err := p.strList(f.name)
			if err != nil {
				return err
			}
			present = len(list) > 0
			dst.Set(reflect.ValueOf(list))
		default:
			raw, ok := p.raw(f.name)
			present = ok
			if ok {
				if p.query != nil && raw[0] == '"' {
					// A structured value in a query string is its JSON text.
					var s string
					_ = json.Unmarshal(raw, &s)
					raw = json.RawMessage(s)
				}
				if err := json.Unmarshal(raw, dst.Addr().Interface()); err != nil {
					return typeError(f.name, raw)
				}
			}
		}
		if f.required && !present {
			return mlflow.MissingParam(f.name)
		}
	}
	return nil
}
