// Package sqlitedriver registers the SQLite driver of database/sql under
// the name "sqlite", which the stores open. Which driver that is depends on
// the build:
//
//   - by default, with cgo (a C compiler): mattn/go-sqlite3, SQLite's C
//     source compiled in (cgo.go);
//   - built with -tags purego, or with CGO_ENABLED=0: modernc.org/sqlite,
//     SQLite translated to Go, so that no C compiler is needed (purego.go).
//
// Data source names are modernc's on both: file:PATH?_pragma=NAME(VALUE)&
// ...&_txlock=immediate; the cgo driver runs the pragmas on each new
// connection, as modernc does. docs/architecture.md has the measurements
// behind the default.
package sqlitedriver
