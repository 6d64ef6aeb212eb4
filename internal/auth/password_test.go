package auth

import (
	"encoding/hex"
	"strings"
	"testing"
)

// Hashes in werkzeug's format. The digests were computed with Python's
// hashlib.pbkdf2_hmac and hashlib.scrypt using the arguments werkzeug's
// _hash_internal passes (the salt as UTF-8 text, scrypt dklen 64), so they
// are what MLflow's generate_password_hash stores for these salts.
var werkzeugVectors = []struct {
	hash, password string
}{
	{"pbkdf2:sha256:600000$NfNqbpl7D3vxMWk0$3dd22f5da0876c76206f5c712edde2457ca5f7eb6b2e7a8d2796495f44a1dad1", "password1234"},
	{"scrypt:32768:8:1$ZxPq8mNvB2kLrT5w$40b65e0211d01c8e6ec9bcfa57a4b3e892ec0d0a81e230cd5b5e61d7696274fcdeab1df954dbbc4b9da53d15e8f97b93def4412d1c25f65899a2bb1fc1886b3c", "password1234"},
	{"pbkdf2:sha256:1000000$aB3dE5fG7hJ9kL1m$df884ab4dd0329db846db3a7aa29abd22aa8ddefab8969219d1c77a699cbfaef", "pässwörd-ünïcode"},
	{"pbkdf2:sha256:260000$Qw12$3493ceee14b39678444762de8922f32807dbd7d47669799b557e06d842d199d1", "legacy-password!"},
}

func TestVerifyWerkzeugHashes(t *testing.T) {
	for _, v := range werkzeugVectors {
		if !VerifyPassword(v.hash, v.password) {
			t.Errorf("%s: right password refused", v.hash[:20])
		}
		if VerifyPassword(v.hash, v.password+"x") {
			t.Errorf("%s: wrong password accepted", v.hash[:20])
		}
		// A changed digest must not match either.
		last := v.hash[len(v.hash)-1]
		flip := byte('0')
		if last == '0' {
			flip = '1'
		}
		bad := v.hash[:len(v.hash)-1] + string(flip)
		if VerifyPassword(bad, v.password) {
			t.Errorf("%s: tampered hash accepted", v.hash[:20])
		}
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "pbkdf2:sha256:1$salt", "md5$salt$abc", "pbkdf2:sha256:x$s$00",
		"scrypt:3:8:1$s$00", "scrypt:1048576:64:1$s$00", "pbkdf2:whirlpool:1$s$00", "pbkdf2:sha256:1:2$s$00"} {
		if VerifyPassword(h, "password") {
			t.Errorf("%q accepted", h)
		}
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "pbkdf2:sha256:600000$") || strings.Count(h, "$") != 2 {
		t.Fatalf("hash %q is not in werkzeug's pbkdf2 format", h)
	}
	if !VerifyPassword(h, "correct horse battery") || VerifyPassword(h, "correct horse batterY") {
		t.Fatal("round trip failed")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

// RFC 7914 section 12 test vectors.
func TestScryptRFC7914(t *testing.T) {
	for _, c := range []struct {
		pw, salt string
		n, r, p  int
		want     string
	}{
		{"", "", 16, 1, 1, "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"},
		{"password", "NaCl", 1024, 8, 16, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"},
	} {
		got, err := scryptKey([]byte(c.pw), []byte(c.salt), c.n, c.r, c.p, 64)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != c.want {
			t.Errorf("scrypt(%q, %q, %d, %d, %d) = %x", c.pw, c.salt, c.n, c.r, c.p, got)
		}
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		_, _ = HashPassword("benchmark-password")
	}
}
