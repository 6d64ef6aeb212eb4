package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
)

// Webhooks live in MLflow's webhooks and webhook_events tables (deleted
// webhooks stay as rows with deleted_timestamp, as MLflow soft-deletes
// them). Events wait in mltrack_webhook_outbox, one row per event and
// subscribed webhook, written in the transaction of the registry change
// that fired them; each delivery attempt is logged in
// mltrack_webhook_deliveries. Both tables are mltrack's own (webhookTables).

// webhookTables are mltrack's tables for webhook delivery, created with the
// extra indexes. MLflow ignores tables it does not know.
var webhookTables = []string{
	`CREATE TABLE IF NOT EXISTS mltrack_webhook_outbox (
		delivery_id VARCHAR(36) NOT NULL PRIMARY KEY,
		webhook_id VARCHAR(256) NOT NULL,
		entity VARCHAR(50) NOT NULL,
		action VARCHAR(50) NOT NULL,
		payload TEXT NOT NULL,
		event_time BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt_at BIGINT NOT NULL,
		claim VARCHAR(36),
		claimed_until BIGINT
	)`,
	`CREATE INDEX IF NOT EXISTS mltrack_webhook_outbox_due ON mltrack_webhook_outbox (next_attempt_at)`,
	`CREATE INDEX IF NOT EXISTS mltrack_webhook_outbox_webhook ON mltrack_webhook_outbox (webhook_id)`,
	`CREATE TABLE IF NOT EXISTS mltrack_webhook_deliveries (
		delivery_id VARCHAR(36) NOT NULL,
		attempt INTEGER NOT NULL,
		webhook_id VARCHAR(256) NOT NULL,
		entity VARCHAR(50) NOT NULL,
		action VARCHAR(50) NOT NULL,
		attempted_at BIGINT NOT NULL,
		outcome VARCHAR(20) NOT NULL,
		response_status INTEGER,
		error TEXT,
		duration_ms BIGINT NOT NULL,
		next_attempt_at BIGINT,
		PRIMARY KEY (delivery_id, attempt)
	)`,
	`CREATE INDEX IF NOT EXISTS mltrack_webhook_deliveries_webhook ON mltrack_webhook_deliveries (webhook_id, attempted_at)`,
}

// newUUID is a random (version 4) UUID, as MLflow's uuid.uuid4().
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

func webhookNotFound(id string) error {
	return mlflow.NotFound("Webhook with ID %s not found.", id)
}

// CreateWebhook inserts a webhook and its events.
func (s *Store) CreateWebhook(ctx context.Context, c store.CreateWebhook) (*mlflow.Webhook, error) {
	id := newUUID()
	now := time.Now().UnixMilli()
	status := c.Status
	if status == "" {
		status = mlflow.WebhookActive
	}
	var w *mlflow.Webhook
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO webhooks (webhook_id, name, description, url, status, secret, creation_timestamp, last_updated_timestamp, workspace)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'default')`), id, c.Name, nullString(c.Description), c.URL, status, nullString(c.Secret), now, now)
		if err != nil {
			return fmt.Errorf("store: create webhook: %w", err)
		}
		if err := s.insertWebhookEvents(ctx, tx, id, c.Events); err != nil {
			return err
		}
		rec, err := s.getWebhook(ctx, tx, id)
		if err == nil {
			w = &rec.Webhook
		}
		return err
	})
	return w, err
}

func (s *Store) insertWebhookEvents(ctx context.Context, tx *sql.Tx, id string, events []mlflow.WebhookEvent) error {
	seen := map[mlflow.WebhookEvent]bool{}
	for _, e := range events {
		if seen[e] {
			continue
		}
		seen[e] = true
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO webhook_events (webhook_id, entity, action) VALUES (?, ?, ?)"), id, e.Entity, e.Action); err != nil {
			return fmt.Errorf("store: create webhook events: %w", err)
		}
	}
	return nil
}

const webhookColumns = "webhook_id, name, description, url, status, secret, creation_timestamp, last_updated_timestamp"

func scanWebhook(row interface{ Scan(...any) error }) (store.WebhookRecord, error) {
	var (
		w                 store.WebhookRecord
		desc, status, sec sql.NullString
		created, updated  sql.NullInt64
	)
	err := row.Scan(&w.WebhookID, &w.Name, &desc, &w.URL, &status, &sec, &created, &updated)
	w.Description, w.Status, w.Secret = desc.String, status.String, sec.String
	w.CreationTimestamp, w.LastUpdatedTimestamp = created.Int64, updated.Int64
	if w.Status == "" {
		w.Status = mlflow.WebhookActive
	}
	return w, err
}

// GetWebhook returns a live webhook with its events and encrypted secret.
func (s *Store) GetWebhook(ctx context.Context, id string) (*store.WebhookRecord, error) {
	return s.getWebhook(ctx, s.reader(), id)
}

func (s *Store) getWebhook(ctx context.Context, q querier, id string) (*store.WebhookRecord, error) {
	w, err := scanWebhook(q.QueryRowContext(ctx, s.q("SELECT "+webhookColumns+" FROM webhooks WHERE workspace = 'default' AND webhook_id = ? AND deleted_timestamp IS NULL"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webhookNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get webhook: %w", err)
	}
	ws := []store.WebhookRecord{w}
	if err := s.loadWebhookEvents(ctx, q, ws); err != nil {
		return nil, err
	}
	return &ws[0], nil
}

// loadWebhookEvents fills the events of webhooks, ordered by entity and
// action (the order of webhook_events' primary key, which is the order
// MLflow answers them in on SQLite).
func (s *Store) loadWebhookEvents(ctx context.Context, q querier, ws []store.WebhookRecord) error {
	if len(ws) == 0 {
		return nil
	}
	idx := map[string]int{}
	args := make([]any, len(ws))
	for i, w := range ws {
		idx[w.WebhookID] = i
		args[i] = w.WebhookID
		ws[i].Webhook.Events = []mlflow.WebhookEventJSON{}
	}
	rows, err := q.QueryContext(ctx, s.q("SELECT webhook_id, entity, action FROM webhook_events WHERE webhook_id IN ("+placeholders(len(args))+") ORDER BY webhook_id, entity, action"), args...)
	if err != nil {
		return fmt.Errorf("store: load webhook events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var e mlflow.WebhookEvent
		if err := rows.Scan(&id, &e.Entity, &e.Action); err != nil {
			return fmt.Errorf("store: load webhook events: %w", err)
		}
		i := idx[id]
		ws[i].Events = append(ws[i].Events, e)
		ws[i].Webhook.Events = append(ws[i].Webhook.Events, e.JSON())
	}
	return rows.Err()
}

// ListWebhooks answers a page of live webhooks, newest first (as MLflow).
func (s *Store) ListWebhooks(ctx context.Context, p store.Page) ([]mlflow.Webhook, string, error) {
	q := s.reader()
	rows, err := q.QueryContext(ctx, s.q("SELECT "+webhookColumns+" FROM webhooks WHERE workspace = 'default' AND deleted_timestamp IS NULL ORDER BY creation_timestamp DESC, webhook_id LIMIT ? OFFSET ?"), p.MaxResults+1, p.Offset)
	if err != nil {
		return nil, "", fmt.Errorf("store: list webhooks: %w", err)
	}
	var ws []store.WebhookRecord
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("store: list webhooks: %w", err)
		}
		ws = append(ws, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list webhooks: %w", err)
	}
	ws, next := pageOf(ws, p)
	if err := s.loadWebhookEvents(ctx, q, ws); err != nil {
		return nil, "", err
	}
	out := make([]mlflow.Webhook, len(ws))
	for i := range ws {
		out[i] = ws[i].Webhook
	}
	return out, next, nil
}

// UpdateWebhook changes the given fields of a live webhook.
func (s *Store) UpdateWebhook(ctx context.Context, u store.UpdateWebhook) (*mlflow.Webhook, error) {
	var w *mlflow.Webhook
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getWebhook(ctx, tx, u.ID); err != nil {
			return err
		}
		sets := []string{"last_updated_timestamp = ?"}
		args := []any{time.Now().UnixMilli()}
		for _, f := range []struct {
			col string
			v   *string
		}{{"name", u.Name}, {"description", u.Description}, {"url", u.URL}, {"secret", u.Secret}, {"status", u.Status}} {
			if f.v != nil {
				sets = append(sets, f.col+" = ?")
				args = append(args, *f.v)
			}
		}
		args = append(args, u.ID)
		if _, err := tx.ExecContext(ctx, s.q("UPDATE webhooks SET "+strings.Join(sets, ", ")+" WHERE workspace = 'default' AND webhook_id = ?"), args...); err != nil {
			return fmt.Errorf("store: update webhook: %w", err)
		}
		if u.Events != nil {
			if _, err := tx.ExecContext(ctx, s.q("DELETE FROM webhook_events WHERE webhook_id = ?"), u.ID); err != nil {
				return fmt.Errorf("store: update webhook events: %w", err)
			}
			if err := s.insertWebhookEvents(ctx, tx, u.ID, u.Events); err != nil {
				return err
			}
		}
		rec, err := s.getWebhook(ctx, tx, u.ID)
		if err == nil {
			w = &rec.Webhook
		}
		return err
	})
	return w, err
}

// DeleteWebhook soft-deletes a webhook, as MLflow does; its undelivered
// events are dropped when a worker next claims them.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixMilli()
		res, err := tx.ExecContext(ctx, s.q("UPDATE webhooks SET deleted_timestamp = ?, last_updated_timestamp = ? WHERE workspace = 'default' AND webhook_id = ? AND deleted_timestamp IS NULL"), now, now, id)
		if err != nil {
			return fmt.Errorf("store: delete webhook: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return webhookNotFound(id)
		}
		return nil
	})
}

// enqueueEvent puts an event in the outbox for every live, active webhook
// subscribed to it, inside the registry change's transaction: the event
// exists exactly when the change is committed.
func (s *Store) enqueueEvent(ctx context.Context, tx *sql.Tx, e mlflow.WebhookEvent, p mlflow.Payload) error {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT w.webhook_id FROM webhooks w JOIN webhook_events e ON e.webhook_id = w.webhook_id
		WHERE w.workspace = 'default' AND w.deleted_timestamp IS NULL AND w.status = ? AND e.entity = ? AND e.action = ?`), mlflow.WebhookActive, e.Entity, e.Action)
	if err != nil {
		return fmt.Errorf("store: webhooks of %s: %w", e, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("store: webhooks of %s: %w", e, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: webhooks of %s: %w", e, err)
	}
	if len(ids) == 0 {
		return nil
	}
	now := time.Now()
	data := p.EncodeData()
	for _, id := range ids {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO mltrack_webhook_outbox (delivery_id, webhook_id, entity, action, payload, event_time, created_at, attempts, next_attempt_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`), newUUID(), id, e.Entity, e.Action, data, now.UnixMicro(), now.UnixMilli(), now.UnixMilli())
		if err != nil {
			return fmt.Errorf("store: queue webhook event: %w", err)
		}
	}
	s.webhookEvents.Add(1)
	return nil
}

// isPrompt reports whether a registered model is a prompt, as MLflow's
// RegisteredModel._is_prompt: its mlflow.prompt.is_prompt tag is "true"
// in any case.
func (s *Store) isPrompt(ctx context.Context, q querier, name string) (bool, error) {
	var v sql.NullString
	err := q.QueryRowContext(ctx, s.q(`SELECT value FROM registered_model_tags WHERE workspace = 'default' AND name = ? AND "key" = ?`), name, mlflow.TagIsPrompt).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: is prompt: %w", err)
	}
	return strings.EqualFold(v.String, "true"), nil
}

// hasTag reports whether tags has the key, as MLflow's _is_prompt_request.
func hasTag(tags []mlflow.Tag, key string) bool {
	for _, t := range tags {
		if t.Key == key {
			return true
		}
	}
	return false
}

// WebhookEventsQueued counts the events this store put in the outbox, for
// the delivery worker to wake up on.
func (s *Store) WebhookEventsQueued() int64 { return s.webhookEvents.Load() }

// ClaimDeliveries takes due outbox rows for lease. On PostgreSQL the rows
// are picked with FOR UPDATE SKIP LOCKED, so replicas claiming at once get
// different rows; on SQLite the claim runs on the single writer.
func (s *Store) ClaimDeliveries(ctx context.Context, lease time.Duration, limit int) ([]store.Delivery, error) {
	// Most polls find nothing due: look on a reader first, so that an idle
	// poll costs no write transaction (on SQLite, no turn of the writer).
	var one int
	now := time.Now().UnixMilli()
	err := s.reader().QueryRowContext(ctx, s.q(`SELECT 1 FROM mltrack_webhook_outbox WHERE next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) LIMIT 1`), now, now).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: look for webhook deliveries: %w", err)
	}
	var out []store.Delivery
	err = s.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		now := time.Now().UnixMilli()
		pick := `SELECT delivery_id FROM mltrack_webhook_outbox WHERE next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_attempt_at LIMIT ?`
		if s.d.name() == "postgres" {
			pick += " FOR UPDATE SKIP LOCKED"
		}
		claim := newUUID()
		rows, err := tx.QueryContext(ctx, s.q(`UPDATE mltrack_webhook_outbox SET claim = ?, claimed_until = ? WHERE delivery_id IN (`+pick+`)
			RETURNING delivery_id, webhook_id, entity, action, payload, event_time, created_at, attempts`), claim, now+lease.Milliseconds(), now, now, limit)
		if err != nil {
			return fmt.Errorf("store: claim webhook deliveries: %w", err)
		}
		for rows.Next() {
			var d store.Delivery
			var evt, created int64
			if err := rows.Scan(&d.ID, &d.WebhookID, &d.Event.Entity, &d.Event.Action, &d.Data, &evt, &created, &d.Attempts); err != nil {
				rows.Close()
				return fmt.Errorf("store: claim webhook deliveries: %w", err)
			}
			d.EventTime, d.CreatedAt, d.Claim = time.UnixMicro(evt), time.UnixMilli(created), claim
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: claim webhook deliveries: %w", err)
		}
		for i := range out {
			d := &out[i]
			var status, sec sql.NullString
			var deleted sql.NullInt64
			err := tx.QueryRowContext(ctx, s.q("SELECT url, status, secret, deleted_timestamp FROM webhooks WHERE webhook_id = ?"), d.WebhookID).Scan(&d.URL, &status, &sec, &deleted)
			if errors.Is(err, sql.ErrNoRows) {
				d.Gone = true
				continue
			}
			if err != nil {
				return fmt.Errorf("store: claim webhook deliveries: %w", err)
			}
			d.Status, d.Secret, d.Gone = status.String, sec.String, deleted.Valid
		}
		return nil
	})
	return out, err
}

// FinishDelivery logs an attempt and removes or reschedules the row, if
// the claim still holds it.
func (s *Store) FinishDelivery(ctx context.Context, d store.Delivery, a store.DeliveryAttempt) (bool, error) {
	held := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if a.Outcome == store.DeliveryRetrying {
			res, err = tx.ExecContext(ctx, s.q("UPDATE mltrack_webhook_outbox SET attempts = ?, next_attempt_at = ?, claim = NULL, claimed_until = NULL WHERE delivery_id = ? AND claim = ?"),
				d.Attempts+1, a.NextAttempt.UnixMilli(), d.ID, d.Claim)
		} else {
			res, err = tx.ExecContext(ctx, s.q("DELETE FROM mltrack_webhook_outbox WHERE delivery_id = ? AND claim = ?"), d.ID, d.Claim)
		}
		if err != nil {
			return fmt.Errorf("store: finish webhook delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		held = true
		var next any
		if a.Outcome == store.DeliveryRetrying {
			next = a.NextAttempt.UnixMilli()
		}
		var status any
		if a.ResponseStatus != 0 {
			status = a.ResponseStatus
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO mltrack_webhook_deliveries (delivery_id, attempt, webhook_id, entity, action, attempted_at, outcome, response_status, error, duration_ms, next_attempt_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), d.ID, d.Attempts+1, d.WebhookID, d.Event.Entity, d.Event.Action, a.Time.UnixMilli(), a.Outcome, status, nullString(a.Error), a.DurationMs, next)
		if err != nil {
			return fmt.Errorf("store: log webhook delivery: %w", err)
		}
		return nil
	})
	return held, err
}

// ListDeliveries answers a page of a webhook's delivery log, newest first.
func (s *Store) ListDeliveries(ctx context.Context, webhookID string, p store.Page) ([]store.DeliveryLog, string, error) {
	rows, err := s.reader().QueryContext(ctx, s.q(`SELECT delivery_id, webhook_id, entity, action, attempt, attempted_at, outcome, response_status, error, duration_ms, next_attempt_at
		FROM mltrack_webhook_deliveries WHERE webhook_id = ? ORDER BY attempted_at DESC, delivery_id, attempt DESC LIMIT ? OFFSET ?`), webhookID, p.MaxResults+1, p.Offset)
	if err != nil {
		return nil, "", fmt.Errorf("store: list webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []store.DeliveryLog
	for rows.Next() {
		var (
			l              store.DeliveryLog
			entity, action string
			status, next   sql.NullInt64
			msg            sql.NullString
		)
		if err := rows.Scan(&l.DeliveryID, &l.WebhookID, &entity, &action, &l.Attempt, &l.Timestamp, &l.Outcome, &status, &msg, &l.DurationMs, &next); err != nil {
			return nil, "", fmt.Errorf("store: list webhook deliveries: %w", err)
		}
		l.Event = entity + "." + action
		l.ResponseStatus, l.Error, l.NextAttempt = int(status.Int64), msg.String, next.Int64
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list webhook deliveries: %w", err)
	}
	out, next := pageOf(out, p)
	return out, next, nil
}

// PendingDeliveries counts a webhook's events still in the outbox.
func (s *Store) PendingDeliveries(ctx context.Context, webhookID string) (int, error) {
	var n int
	if err := s.reader().QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM mltrack_webhook_outbox WHERE webhook_id = ?"), webhookID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count pending webhook deliveries: %w", err)
	}
	return n, nil
}

// PruneDeliveryLog removes delivery log lines older than before.
func (s *Store) PruneDeliveryLog(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM mltrack_webhook_deliveries WHERE attempted_at < ?"), before.UnixMilli())
		if err != nil {
			return fmt.Errorf("store: prune webhook delivery log: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
