// Package sqlitedriver registers the SQLite driver of database/sql under
// the name "sqlite", which the stores open. Which driver that is depends on
// the build:
//
//   - by default: modernc.org/sqlite, SQLite translated to Go, so that
//     go install and go run need no C compiler (purego.go);
//   - built with -tags cgosqlite (and cgo, so a C compiler): mattn/go-sqlite3,
//     SQLite's C source compiled in (cgo.go).
//
// Data source names are modernc's on both: file:PATH?_pragma=NAME(VALUE)&
// ...&_txlock=immediate; the cgo driver runs the pragmas on each new
// connection, as modernc does. docs/architecture.md has the measurements
// behind the default (the cgo driver was not clearly faster).
package sqlitedriver
