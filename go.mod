module github.com/mltrack/mltrack

go 1.26.8
