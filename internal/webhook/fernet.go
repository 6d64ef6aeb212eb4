// Package webhook delivers registry webhooks: MLflow's signed HTTP POSTs,
// sent by a worker that claims events from the store's outbox and retries
// with back-off, the Fernet encryption of webhook secrets (as MLflow's, so
// a database shared with MLflow keeps working), and the checks that keep
// deliveries off internal addresses.
package webhook

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Fernet encrypts and decrypts with a Fernet key
// (https://github.com/fernet/spec): what MLflow's EncryptedString column
// type does with MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY.
type Fernet struct {
	signing, encryption []byte
}

// ErrBadToken is a token that was not made with the key (or is damaged).
var ErrBadToken = errors.New("webhook: the secret cannot be decrypted with MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY")

// NewFernet reads a key: 32 bytes in URL-safe base64, as
// Fernet.generate_key() makes.
func NewFernet(key string) (*Fernet, error) {
	k, err := base64.URLEncoding.DecodeString(strings.TrimSpace(key))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("webhook: the encryption key must be 32 url-safe base64-encoded bytes (a Fernet key)")
	}
	return &Fernet{signing: k[:16], encryption: k[16:]}, nil
}

// GenerateFernetKey makes a random key.
func GenerateFernetKey() string {
	var k [32]byte
	_, _ = rand.Read(k[:])
	return base64.URLEncoding.EncodeToString(k[:])
}

// Encrypt makes a token of plaintext.
func (f *Fernet) Encrypt(plaintext string) string {
	var iv [16]byte
	_, _ = rand.Read(iv[:])
	return f.encryptAt([]byte(plaintext), iv[:], time.Now())
}

func (f *Fernet) encryptAt(plaintext, iv []byte, now time.Time) string {
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(append([]byte{}, plaintext...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(f.encryption)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	msg := make([]byte, 0, 1+8+16+len(ct)+32)
	msg = append(msg, 0x80)
	msg = binary.BigEndian.AppendUint64(msg, uint64(now.Unix()))
	msg = append(msg, iv...)
	msg = append(msg, ct...)
	mac := hmac.New(sha256.New, f.signing)
	mac.Write(msg)
	return base64.URLEncoding.EncodeToString(mac.Sum(msg))
}

// Decrypt opens a token. As MLflow, no time-to-live is applied.
func (f *Fernet) Decrypt(token string) (string, error) {
	b, err := base64.URLEncoding.DecodeString(token)
	if err != nil {
		return "", ErrBadToken
	}
	if len(b) < 1+8+16+16+32 || b[0] != 0x80 || (len(b)-1-8-16-32)%aes.BlockSize != 0 {
		return "", ErrBadToken
	}
	msg, sum := b[:len(b)-32], b[len(b)-32:]
	mac := hmac.New(sha256.New, f.signing)
	mac.Write(msg)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return "", ErrBadToken
	}
	iv, ct := msg[9:25], msg[25:]
	block, _ := aes.NewCipher(f.encryption)
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(pt[len(pt)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return "", ErrBadToken
	}
	return string(pt[:len(pt)-pad]), nil
}
