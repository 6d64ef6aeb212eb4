package store

import (
	"context"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
)

// CreateWebhook holds what POST webhooks gives. Secret is already encrypted
// (the store keeps what it is given); "" is no secret.
type CreateWebhook struct {
	Name        string
	Description string
	URL         string
	Events      []mlflow.WebhookEvent
	Secret      string
	Status      string
}

// UpdateWebhook holds what PATCH webhooks/{id} gives; nil fields (and nil
// Events) are left unchanged.
type UpdateWebhook struct {
	ID          string
	Name        *string
	Description *string
	URL         *string
	Events      []mlflow.WebhookEvent
	Secret      *string
	Status      *string
}

// WebhookRecord is a webhook with what the API never answers: its
// encrypted secret, and its events in the store's form.
type WebhookRecord struct {
	mlflow.Webhook
	Secret string
	Events []mlflow.WebhookEvent
}

// Delivery is one event for one webhook, claimed from the outbox.
type Delivery struct {
	ID        string // the X-MLflow-Delivery-Id, the same on every attempt
	WebhookID string
	Event     mlflow.WebhookEvent
	Data      string    // the payload, encoded as MLflow's json.dumps
	EventTime time.Time // when the registry change was committed
	CreatedAt time.Time
	Attempts  int    // attempts made before this one
	Claim     string // the claim's token: only its holder may finish it

	// The webhook as it is now (URL and secret may have changed since the
	// event); Gone when it was deleted.
	URL    string
	Secret string
	Status string
	Gone   bool
}

// Delivery outcomes, as the delivery log records them.
const (
	DeliveryDelivered = "DELIVERED"
	DeliveryRetrying  = "RETRYING" // failed, another attempt is scheduled
	DeliveryFailed    = "FAILED"   // failed, given up
	DeliverySkipped   = "SKIPPED"  // not sent: the webhook was deleted or disabled
)

// DeliveryAttempt is the outcome of one attempt of a Delivery.
type DeliveryAttempt struct {
	Time           time.Time
	Outcome        string
	ResponseStatus int
	Error          string
	DurationMs     int64
	// NextAttempt is when to try again (Outcome RETRYING).
	NextAttempt time.Time
}

// DeliveryLog is one line of a webhook's delivery log.
type DeliveryLog struct {
	DeliveryID     string `json:"delivery_id"`
	WebhookID      string `json:"webhook_id"`
	Event          string `json:"event"`
	Attempt        int    `json:"attempt"`
	Timestamp      int64  `json:"timestamp"`
	Outcome        string `json:"status"`
	ResponseStatus int    `json:"response_status,omitempty"`
	Error          string `json:"error,omitempty"`
	DurationMs     int64  `json:"duration_ms"`
	NextAttempt    int64  `json:"next_attempt_timestamp,omitempty"`
}

// Webhooks is the store of registry webhooks (MLflow's webhooks and
// webhook_events tables) and of their deliveries: the registry's writes put
// one outbox row per subscribed active webhook in their own transaction,
// and delivery workers claim the rows.
type Webhooks interface {
	CreateWebhook(ctx context.Context, c CreateWebhook) (*mlflow.Webhook, error)
	GetWebhook(ctx context.Context, id string) (*WebhookRecord, error)
	ListWebhooks(ctx context.Context, p Page) ([]mlflow.Webhook, string, error)
	UpdateWebhook(ctx context.Context, u UpdateWebhook) (*mlflow.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error

	// ClaimDeliveries takes up to limit due outbox rows for lease: no
	// other claim (in this or another process) gets them until the lease
	// ends or they are finished.
	ClaimDeliveries(ctx context.Context, lease time.Duration, limit int) ([]Delivery, error)
	// FinishDelivery logs an attempt and removes the row from the outbox,
	// or schedules the next attempt. It reports false when the claim was
	// lost (the lease ended and another worker took the row).
	FinishDelivery(ctx context.Context, d Delivery, a DeliveryAttempt) (bool, error)
	// ListDeliveries answers a page of a webhook's delivery log, newest first.
	ListDeliveries(ctx context.Context, webhookID string, p Page) ([]DeliveryLog, string, error)
	// PendingDeliveries counts a webhook's events still in the outbox.
	PendingDeliveries(ctx context.Context, webhookID string) (int, error)
	// PruneDeliveryLog removes delivery log lines older than before.
	PruneDeliveryLog(ctx context.Context, before time.Time) (int64, error)
}
