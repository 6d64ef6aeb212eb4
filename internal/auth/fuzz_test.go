package auth

import "testing"

// FuzzDecodeOffsetToken checks the page tokens the auth filter reads back
// from clients when it re-pages filtered search results: never a panic,
// never a negative offset, and its own tokens read back to their offset.
func FuzzDecodeOffsetToken(f *testing.F) {
	for _, s := range []string{"", "eyJvZmZzZXQiOiAyfQ==", "eyJvZmZzZXQiOiAtM30=", " eyJvZmZzZXQiOiAwfQ== ", "e30=", "!!", encodeOffsetToken(1 << 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		n, ok := decodeOffsetToken(token)
		if !ok {
			return
		}
		if n < 0 {
			t.Fatalf("negative offset %d from %q", n, token)
		}
		if m, ok := decodeOffsetToken(encodeOffsetToken(n)); !ok || m != n {
			t.Fatalf("round trip of %d: %d %v", n, m, ok)
		}
	})
}
