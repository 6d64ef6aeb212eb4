package server

import (
	"fmt"

	"github.com/mltrack/mltrack/internal/api"
	"github.com/mltrack/mltrack/internal/webhook"
)

// openWebhooks sets up webhook delivery: the secrets' cipher, the policy
// on receivers and the deliverer, which Serve runs.
func (s *Server) openWebhooks() error {
	c := s.cfg.Webhooks
	key := c.EncryptionKey
	if key == "" {
		// As MLflow (EncryptedString with Fernet.generate_key()): secrets
		// saved now can't be read by another process or after a restart.
		key = webhook.GenerateFernetKey()
		s.log.Warn("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY is not set: webhook secrets are encrypted with a key of this process only, and deliveries of signed webhooks fail after a restart or on another replica; set it (a Fernet key) to keep them")
	}
	cipher, err := webhook.NewFernet(key)
	if err != nil {
		return fmt.Errorf("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: %w", err)
	}
	guard := &webhook.Guard{Schemes: c.AllowedSchemes, AllowPrivate: c.AllowPrivateIPs}
	d := webhook.New(webhook.Config{Guard: *guard, Cipher: cipher, MaxRetries: c.MaxRetries, Timeout: c.Timeout, Workers: c.Workers, MaxAge: c.MaxAge, LogRetention: c.LogRetention}, s.store, s.log)
	s.hooks = &api.Webhooks{Store: s.store, Guard: guard, Cipher: cipher, Deliverer: d}
	return nil
}
