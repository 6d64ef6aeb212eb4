package webhook

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// TestFernetSpecVector is the Fernet spec's generate/verify vector
// (github.com/fernet/spec, generate.json and verify.json).
func TestFernetSpecVector(t *testing.T) {
	f, err := NewFernet("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
	if err != nil {
		t.Fatal(err)
	}
	const token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
	iv := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	at, _ := time.Parse(time.RFC3339, "1985-10-26T01:20:00-07:00")
	if got := f.encryptAt([]byte("hello"), iv, at); got != token {
		t.Errorf("encrypt: %s, want %s", got, token)
	}
	if got, err := f.Decrypt(token); err != nil || got != "hello" {
		t.Errorf("decrypt: %q %v", got, err)
	}
}

// TestFernetPythonTokens decrypts tokens that Python's cryptography
// (38.0.4, as MLflow's EncryptedString uses it) made with a generated key,
// and refuses them with another key or damaged.
func TestFernetPythonTokens(t *testing.T) {
	f, err := NewFernet("g0qEmYL7I01k5mYR6PD3UdFGGakklJhyOaGr7MWRsoE=")
	if err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]string{
		"gAAAAABrF2x2-_RZO_aVtkvD4jAQtQqAl0OQfq0hPlMKTNef6xHd5R4JG0kuC2_nVShqeG_stFoy5mNRlVMU43fWsOncFzizAA==": "s3cret",
		"gAAAAABrF2x2OIj-5SLBgwJDrGJWmihKG7Ax7nwjHfeCaweJCw3oCjH74wCZ46DTOmpTalQwSjLHHToDcL-6EURxETob1WLYCA==": "sécret ✓",
	} {
		if got, err := f.Decrypt(token); err != nil || got != want {
			t.Errorf("decrypt %s: %q %v, want %q", token, got, err, want)
		}
		other, _ := NewFernet(GenerateFernetKey())
		if _, err := other.Decrypt(token); err != ErrBadToken {
			t.Errorf("another key decrypted it: %v", err)
		}
		bad := []byte(token)
		bad[40] ^= 1
		if _, err := f.Decrypt(string(bad)); err != ErrBadToken {
			t.Errorf("a damaged token decrypted: %v", err)
		}
	}
	// Round trip of our own tokens, of every length around the block size.
	for n := 0; n < 40; n++ {
		s := strings.Repeat("x", n)
		if got, err := f.Decrypt(f.Encrypt(s)); err != nil || got != s {
			t.Fatalf("round trip of %d bytes: %q %v", n, got, err)
		}
	}
	for _, k := range []string{"", "short", "g0qEmYL7I01k5mYR6PD3UdFGGakklJhyOaGr7MWRso=="} {
		if _, err := NewFernet(k); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}

func TestIsPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.0.0.1": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"0.0.0.0": false, "100.64.0.1": false, "192.0.2.1": false, "224.0.0.1": false, "255.255.255.255": false,
		"::1": false, "::": false, "fe80::1": false, "fc00::1": false, "fd00:ec2::254": false, "::ffff:127.0.0.1": false,
		"::ffff:8.8.8.8": true, "2001:db8::1": false, "ff02::1": false,
	} {
		if got := IsPublic(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPublic(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestGuardResolvesNames: a name is judged by every address it resolves to.
func TestGuardResolvesNames(t *testing.T) {
	g := &Guard{Schemes: []string{"https"}, Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "mixed.example" {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.7")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	}}
	if err := g.CheckURL(context.Background(), "https://public.example/hook"); err != nil {
		t.Errorf("public name refused: %v", err)
	}
	err := g.CheckURL(context.Background(), "https://mixed.example/hook")
	if e, ok := mlflow.AsError(err); !ok || e.Message != "Webhook URL must not resolve to a non-public IP address. 'mixed.example' resolves to 10.0.0.7." {
		t.Errorf("mixed name: %v", err)
	}
	if err := g.dialControl("tcp", "10.0.0.7:443", nil); err == nil || !strings.Contains(err.Error(), "10.0.0.7 is not public") {
		t.Errorf("dial to a private address: %v", err)
	}
	if err := g.dialControl("tcp", "93.184.216.34:443", nil); err != nil {
		t.Errorf("dial to a public address: %v", err)
	}
	g.AllowPrivate = true
	if err := g.dialControl("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("dial with private addresses allowed: %v", err)
	}
}

// TestPayloadEncoding: bodies are written as Python's json.dumps writes
// them (the expected strings are Python's output).
func TestPayloadEncoding(t *testing.T) {
	p := mlflow.Payload{{Key: "name", Value: "mödel ☃ 😀 \"q\" \\ \n\t\x01\x7f"}, {Key: "tags", Value: []mlflow.Tag{}}}
	if got, want := p.EncodeData(), `{"name": "m\u00f6del \u2603 \ud83d\ude00 \"q\" \\ \n\t\u0001\u007f", "tags": {}}`; got != want {
		t.Errorf("EncodeData:\n got %s\nwant %s", got, want)
	}
	if got := mlflow.PyISOFormat(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "2026-01-02T03:04:05+00:00" {
		t.Errorf("isoformat %s", got)
	}
	if got := mlflow.PyISOFormat(time.Date(2026, 1, 2, 3, 4, 5, 7000999, time.UTC)); got != "2026-01-02T03:04:05.007000+00:00" {
		t.Errorf("isoformat %s", got)
	}
	// Tags given twice keep the last value at the first place, as a dict.
	mv := mlflow.ModelVersionCreatedPayload("m", 3, "s3://x", "", "", []mlflow.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "a", Value: "3"}})
	if got, want := mv.EncodeData(), `{"name": "m", "version": "3", "source": "s3://x", "run_id": null, "tags": {"a": "3", "b": "2"}, "description": null}`; got != want {
		t.Errorf("model version payload %s", got)
	}
	for _, e := range mlflow.WebhookEvents {
		if mlflow.ExamplePayload(e) == nil {
			t.Errorf("no example payload for %s", e)
		}
	}
}

// TestBackoff: MLflow's 1 s, 2 s, 4 s ... (with up to 1 s of jitter) for
// the first retries, then doubling up to 5 minutes; Retry-After honoured.
func TestBackoff(t *testing.T) {
	d := &Deliverer{cfg: Config{MaxRetries: 3}}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 7: 64 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 40: 5 * time.Minute} {
		got := d.backoff(n, 0)
		if got < want || got >= want+time.Second {
			t.Errorf("backoff(%d) = %v, want %v plus under a second", n, got, want)
		}
	}
	d.cfg.MaxRetries = 10
	if got := d.backoff(7, 0); got < time.Minute || got >= time.Minute+time.Second {
		t.Errorf("backoff(7) within MaxRetries = %v, want MLflow's cap of 60s", got)
	}
	if got := d.backoff(1, 30*time.Second); got < 30*time.Second || got >= 31*time.Second {
		t.Errorf("Retry-After 30: %v", got)
	}
	if got := d.backoff(1, time.Hour); got >= 5*time.Minute+time.Second {
		t.Errorf("Retry-After of an hour: %v", got)
	}
}
