package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// Header names and the signature version, as MLflow's mlflow/webhooks/constants.py.
const (
	HeaderSignature  = "X-MLflow-Signature"
	HeaderTimestamp  = "X-MLflow-Timestamp"
	HeaderDeliveryID = "X-MLflow-Delivery-Id"
	signatureVersion = "v1"
)

// Sign is MLflow's signature: "v1," + base64 of HMAC-SHA256 with the
// secret over "<delivery id>.<timestamp>.<body>".
func Sign(secret, deliveryID, timestamp, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(deliveryID + "." + timestamp + "." + body))
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Guard is the policy on receivers: the URL schemes allowed
// (MLFLOW_WEBHOOK_ALLOWED_SCHEMES, default https) and whether addresses
// that are not public (loopback, private, link-local, ...) may be reached
// (MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS, as MLflow 3.10).
type Guard struct {
	Schemes      []string
	AllowPrivate bool
	// Resolve looks a host up (net.DefaultResolver.LookupNetIP when nil).
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

func (g *Guard) schemes() []string {
	if len(g.Schemes) == 0 {
		return []string{"https"}
	}
	return g.Schemes
}

// CheckURL is MLflow's _validate_webhook_url (3.10+): a non-empty URL with
// an allowed scheme and a host, which, unless private addresses are
// allowed, resolves only to public addresses.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	if strings.TrimSpace(raw) == "" {
		return mlflow.InvalidParam("Webhook URL cannot be empty or just whitespace: %s", mlflow.PyRepr(raw))
	}
	if len(raw) > 500 {
		return mlflow.InvalidParam("Webhook URL must be at most 500 characters, got %d.", len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return mlflow.InvalidParam("Invalid webhook URL %s: %v", mlflow.PyRepr(raw), err)
	}
	if !slices.Contains(g.schemes(), u.Scheme) {
		return mlflow.InvalidParam("Invalid webhook URL scheme: %s. Allowed schemes are: %s.", mlflow.PyRepr(u.Scheme), strings.Join(g.schemes(), ", "))
	}
	host := u.Hostname()
	if host == "" {
		return mlflow.InvalidParam("Webhook URL must include a hostname: %s", mlflow.PyRepr(raw))
	}
	if g.AllowPrivate {
		return nil
	}
	addrs, err := g.lookup(ctx, host)
	if err != nil {
		return mlflow.InvalidParam("Cannot resolve webhook URL hostname %s: %v", mlflow.PyRepr(host), err)
	}
	for _, a := range addrs {
		if !IsPublic(a) {
			return mlflow.InvalidParam("Webhook URL must not resolve to a non-public IP address. %s resolves to %s.", mlflow.PyRepr(host), a)
		}
	}
	return nil
}

func (g *Guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if g.Resolve != nil {
		return g.Resolve(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// nonPublic are special-purpose ranges beyond what netip classifies
// (Python's ipaddress is_global is false for them too).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fc00::/7"),
}

// IsPublic reports whether an address is a public unicast address: not
// loopback, private, link-local (cloud metadata endpoints live there),
// multicast, unspecified or otherwise reserved. An IPv4-mapped IPv6
// address is judged by its IPv4 address.
func IsPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// dialControl refuses connections to addresses that are not public, at
// connect time: the address checked is the one the connection goes to, so
// a name that resolved to a public address when the webhook was saved and
// to an internal one now (DNS rebinding) is refused.
func (g *Guard) dialControl(network, address string, _ syscall.RawConn) error {
	if g.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: unexpected dial address %q", address)
	}
	if !IsPublic(ap.Addr()) {
		return fmt.Errorf("webhook receiver address %s is not public (MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS is off)", ap.Addr())
	}
	return nil
}
