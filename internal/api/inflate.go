package api

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"io"
)

// inflate decompresses a zlib stream (HTTP's "deflate"), or a raw deflate
// stream as some clients send, to at most maxOTLPBody bytes.
func inflate(raw []byte) ([]byte, error) {
	var rd io.ReadCloser
	if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
		rd = zr
	} else {
		rd = flate.NewReader(bytes.NewReader(raw))
	}
	defer rd.Close()
	return readAtMost(rd, maxOTLPBody)
}
