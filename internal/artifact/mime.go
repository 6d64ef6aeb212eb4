package artifact

import (
	"path"
	"strings"
)

// textExtensions are served as text/plain whatever their registered type,
// as MLflow's mime_type_utils does so that the UI can show them; a name
// without extension counts as its own extension (MLmodel, MLproject).
var textExtensions = map[string]bool{
	"txt": true, "log": true, "err": true, "cfg": true, "conf": true, "cnf": true, "cf": true,
	"ini": true, "properties": true, "prop": true, "hocon": true, "toml": true, "yaml": true,
	"yml": true, "xml": true, "json": true, "js": true, "py": true, "py3": true, "csv": true,
	"tsv": true, "md": true, "rst": true, "MLmodel": true, "MLproject": true,
}

// pythonTypes is the part of Python's built-in mimetypes table that artifacts
// plausibly use, so that mltrack answers the Content-Type MLflow's server
// would, independently of the host's /etc/mime.types.
var pythonTypes = map[string]string{
	".html": "text/html", ".htm": "text/html", ".css": "text/css", ".svg": "image/svg+xml",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg",
	".gif": "image/gif", ".bmp": "image/bmp", ".ico": "image/vnd.microsoft.icon",
	".tif": "image/tiff", ".tiff": "image/tiff", ".webp": "image/webp",
	".pdf": "application/pdf", ".zip": "application/zip", ".tar": "application/x-tar",
	".wasm": "application/wasm", ".mp3": "audio/mpeg", ".wav": "audio/x-wav",
	".mp4": "video/mp4", ".mpeg": "video/mpeg", ".mov": "video/quicktime", ".webm": "video/webm",
	".avi": "video/x-msvideo", ".xls": "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".doc":  "application/msword", ".ps": "application/postscript", ".rtf": "application/rtf",
	".h5": "application/x-hdf5", ".hdf5": "application/x-hdf5", ".sh": "application/x-sh",
	".c": "text/plain", ".h": "text/plain", ".bat": "text/plain", ".text": "text/plain",
	".tgz": "application/x-tar", ".json": "application/json", ".js": "text/javascript",
	".xml": "text/xml", ".csv": "text/csv", ".txt": "text/plain", ".py": "text/x-python",
	".md": "text/markdown",
}

// pythonEncodings are the suffixes Python's mimetypes treats as an encoding
// (a.tar.gz is an application/x-tar, compressed).
var pythonEncodings = map[string]bool{".gz": true, ".bz2": true, ".xz": true, ".br": true, ".z": true}

// ContentType is the Content-Type MLflow's server sends for an artifact named
// name: text/plain for its list of text extensions, else the registered type,
// else application/octet-stream.
func ContentType(name string) string {
	base := path.Base(name)
	ext := ""
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		ext = base[i+1:]
	}
	if ext == "" {
		ext = base
	}
	if textExtensions[ext] {
		return "text/plain"
	}
	stem := base
	for {
		e := path.Ext(stem)
		if e == "" {
			return "application/octet-stream"
		}
		if t, ok := pythonTypes[e]; ok {
			return t
		}
		if t, ok := pythonTypes[strings.ToLower(e)]; ok {
			return t
		}
		if !pythonEncodings[strings.ToLower(e)] {
			return "application/octet-stream"
		}
		stem = strings.TrimSuffix(stem, e)
	}
}
