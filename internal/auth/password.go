package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"math/bits"
	"strconv"
	"strings"
)

// Password hashes are stored in werkzeug's format, the one MLflow's auth
// store writes with generate_password_hash and reads with
// check_password_hash: "<method>$<salt>$<hex digest>", where method is
// "pbkdf2:<hash>:<iterations>" or "scrypt:<N>:<r>:<p>". The salt is used as
// its UTF-8 text, not decoded. We verify both methods, so the users of an
// auth database written by MLflow keep their passwords, and we write pbkdf2
// with SHA-256, which every werkzeug version MLflow uses can verify.

// pbkdf2Iterations is the work factor of new hashes (werkzeug 3.0's default).
const pbkdf2Iterations = 600_000

// werkzeug's defaults for parameters a stored method string leaves out.
const (
	defaultPBKDF2Iterations = 600_000
	scryptDefaultN          = 1 << 15
	scryptDefaultR          = 8
	scryptDefaultP          = 1
)

const saltChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// HashPassword returns a new salted hash of password in werkzeug's format.
func HashPassword(password string) (string, error) {
	return hashPBKDF2(password, randomSalt(16), "sha256", pbkdf2Iterations)
}

func randomSalt(n int) string {
	b := make([]byte, n)
	for i := range b {
		// rejection-free: 62 characters, draw from a uniform byte below 248
		for {
			var c [1]byte
			_, _ = rand.Read(c[:])
			if c[0] < 248 {
				b[i] = saltChars[int(c[0])%len(saltChars)]
				break
			}
		}
	}
	return string(b)
}

func hashPBKDF2(password, salt, hashName string, iterations int) (string, error) {
	digest, err := pbkdf2Hex(password, salt, hashName, iterations)
	if err != nil {
		return "", err
	}
	return "pbkdf2:" + hashName + ":" + strconv.Itoa(iterations) + "$" + salt + "$" + digest, nil
}

func pbkdf2Hex(password, salt, hashName string, iterations int) (string, error) {
	var h func() hash.Hash
	switch hashName {
	case "sha256":
		h = sha256.New
	case "sha512":
		h = sha512.New
	case "sha1":
		h = sha1.New
	default:
		return "", errors.New("auth: unsupported pbkdf2 hash " + hashName)
	}
	if iterations <= 0 || iterations > 100_000_000 {
		return "", errors.New("auth: pbkdf2 iterations out of range")
	}
	key, err := pbkdf2.Key(h, password, []byte(salt), iterations, h().Size())
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(key), nil
}

// VerifyPassword reports whether password matches a stored werkzeug hash.
// An unreadable or unsupported hash never matches.
func VerifyPassword(stored, password string) bool {
	method, rest, ok := strings.Cut(stored, "$")
	if !ok {
		return false
	}
	salt, want, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	got, err := werkzeugDigest(method, salt, password)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// werkzeugDigest computes the hex digest werkzeug's _hash_internal gives
// for a method string.
func werkzeugDigest(method, salt, password string) (string, error) {
	name, args, _ := strings.Cut(method, ":")
	var parts []string
	if args != "" {
		parts = strings.Split(args, ":")
	}
	switch name {
	case "pbkdf2":
		hashName, iter := "sha256", defaultPBKDF2Iterations
		switch len(parts) {
		case 0:
		case 1:
			hashName = parts[0]
		case 2:
			hashName = parts[0]
			n, err := strconv.Atoi(parts[1])
			if err != nil {
				return "", err
			}
			iter = n
		default:
			return "", errors.New("auth: pbkdf2 takes 2 arguments")
		}
		return pbkdf2Hex(password, salt, hashName, iter)
	case "scrypt":
		n, r, p := scryptDefaultN, scryptDefaultR, scryptDefaultP
		if len(parts) != 0 {
			if len(parts) != 3 {
				return "", errors.New("auth: scrypt takes 3 arguments")
			}
			var vals [3]int
			for i, s := range parts {
				v, err := strconv.Atoi(s)
				if err != nil {
					return "", err
				}
				vals[i] = v
			}
			n, r, p = vals[0], vals[1], vals[2]
		}
		key, err := scryptKey([]byte(password), []byte(salt), n, r, p, 64)
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(key), nil
	}
	return "", errors.New("auth: unsupported password hash method " + name)
}

// scryptKey is scrypt (RFC 7914). Python's hashlib.scrypt, which werkzeug
// calls, has no stdlib counterpart in Go, and the module rules keep
// golang.org/x/crypto out, so it is written here and checked against the
// RFC's test vectors and werkzeug-format vectors.
func scryptKey(password, salt []byte, n, r, p, keyLen int) ([]byte, error) {
	if n <= 1 || n&(n-1) != 0 {
		return nil, errors.New("auth: scrypt N must be a power of two above 1")
	}
	// Bound memory (128*r*N bytes) as hashlib's maxmem does for werkzeug:
	// 64 MiB is twice werkzeug's default cost.
	if r <= 0 || p <= 0 || uint64(r)*uint64(p) >= 1<<30 || uint64(128)*uint64(r)*uint64(n) > 64<<20 {
		return nil, errors.New("auth: scrypt parameters out of range")
	}
	b, err := pbkdf2.Key(sha256.New, string(password), salt, 1, p*128*r)
	if err != nil {
		return nil, err
	}
	xy := make([]uint32, 64*r)
	v := make([]uint32, 32*n*r)
	for i := 0; i < p; i++ {
		smix(b[i*128*r:], r, n, v, xy)
	}
	return pbkdf2.Key(sha256.New, string(password), b, 1, keyLen)
}

// smix is scrypt's ROMix on one 128*r byte block, in place.
func smix(b []byte, r, n int, v, xy []uint32) {
	var tmp [16]uint32
	R := 32 * r
	x := xy
	y := xy[R:]
	for i := range x[:R] {
		x[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	for i := 0; i < n; i += 2 {
		copy(v[i*R:], x[:R])
		blockMix(&tmp, x, y, r)
		copy(v[(i+1)*R:], y)
		blockMix(&tmp, y, x, r)
	}
	for i := 0; i < n; i += 2 {
		j := int(x[R-16] & uint32(n-1))
		blockXOR(x, v[j*R:], R)
		blockMix(&tmp, x, y, r)
		j = int(y[R-16] & uint32(n-1))
		blockXOR(y, v[j*R:], R)
		blockMix(&tmp, y, x, r)
	}
	for i, w := range x[:R] {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
}

func blockXOR(dst, src []uint32, n int) {
	for i, w := range src[:n] {
		dst[i] ^= w
	}
}

// blockMix is scrypt's BlockMix with Salsa20/8: in is 2r 64-byte blocks,
// out receives the even blocks then the odd ones.
func blockMix(tmp *[16]uint32, in, out []uint32, r int) {
	copy(tmp[:], in[(2*r-1)*16:])
	for i := 0; i < 2*r; i += 2 {
		blockXOR(tmp[:], in[i*16:], 16)
		salsa8(tmp)
		copy(out[i*8:], tmp[:])
		blockXOR(tmp[:], in[i*16+16:], 16)
		salsa8(tmp)
		copy(out[i*8+r*16:], tmp[:])
	}
}

// salsa8 is the Salsa20/8 core applied in place.
func salsa8(b *[16]uint32) {
	x := *b
	for i := 0; i < 8; i += 2 {
		x[4] ^= bits.RotateLeft32(x[0]+x[12], 7)
		x[8] ^= bits.RotateLeft32(x[4]+x[0], 9)
		x[12] ^= bits.RotateLeft32(x[8]+x[4], 13)
		x[0] ^= bits.RotateLeft32(x[12]+x[8], 18)
		x[9] ^= bits.RotateLeft32(x[5]+x[1], 7)
		x[13] ^= bits.RotateLeft32(x[9]+x[5], 9)
		x[1] ^= bits.RotateLeft32(x[13]+x[9], 13)
		x[5] ^= bits.RotateLeft32(x[1]+x[13], 18)
		x[14] ^= bits.RotateLeft32(x[10]+x[6], 7)
		x[2] ^= bits.RotateLeft32(x[14]+x[10], 9)
		x[6] ^= bits.RotateLeft32(x[2]+x[14], 13)
		x[10] ^= bits.RotateLeft32(x[6]+x[2], 18)
		x[3] ^= bits.RotateLeft32(x[15]+x[11], 7)
		x[7] ^= bits.RotateLeft32(x[3]+x[15], 9)
		x[11] ^= bits.RotateLeft32(x[7]+x[3], 13)
		x[15] ^= bits.RotateLeft32(x[11]+x[7], 18)
		x[1] ^= bits.RotateLeft32(x[0]+x[3], 7)
		x[2] ^= bits.RotateLeft32(x[1]+x[0], 9)
		x[3] ^= bits.RotateLeft32(x[2]+x[1], 13)
		x[0] ^= bits.RotateLeft32(x[3]+x[2], 18)
		x[6] ^= bits.RotateLeft32(x[5]+x[4], 7)
		x[7] ^= bits.RotateLeft32(x[6]+x[5], 9)
		x[4] ^= bits.RotateLeft32(x[7]+x[6], 13)
		x[5] ^= bits.RotateLeft32(x[4]+x[7], 18)
		x[11] ^= bits.RotateLeft32(x[10]+x[9], 7)
		x[8] ^= bits.RotateLeft32(x[11]+x[10], 9)
		x[9] ^= bits.RotateLeft32(x[8]+x[11], 13)
		x[10] ^= bits.RotateLeft32(x[9]+x[8], 18)
		x[12] ^= bits.RotateLeft32(x[15]+x[14], 7)
		x[13] ^= bits.RotateLeft32(x[12]+x[15], 9)
		x[14] ^= bits.RotateLeft32(x[13]+x[12], 13)
		x[15] ^= bits.RotateLeft32(x[14]+x[13], 18)
	}
	for i := range b {
		b[i] += x[i]
	}
}
