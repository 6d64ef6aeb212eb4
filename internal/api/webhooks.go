package api

import (
	"encoding/json"
	"net/http"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/search"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/webhook"
)

// Webhooks is what the webhook endpoints need besides the store: the
// receiver policy, the secrets' cipher and the deliverer (for test
// deliveries, and woken after registry writes).
type Webhooks struct {
	Store     store.Webhooks
	Guard     *webhook.Guard
	Cipher    *webhook.Fernet
	Deliverer *webhook.Deliverer
}

// webhookRoutes are MLflow's webhooks/ endpoints.
func (a *API) webhookRoutes() []route {
	if a.Webhooks == nil {
		return nil
	}
	return []route{
		{"POST", "webhooks", wrap(a.createWebhook)},
		{"GET", "webhooks", wrap(a.listWebhooks)},
		{"GET", "webhooks/{webhook_id}", wrap(a.getWebhook)},
		{"PATCH", "webhooks/{webhook_id}", wrap(a.updateWebhook)},
		{"DELETE", "webhooks/{webhook_id}", wrap(a.deleteWebhook)},
		{"POST", "webhooks/{webhook_id}/test", wrap(a.testWebhook)},
	}
}

// notifying wakes the deliverer after a registry write that may have
// queued webhook events (they are committed by then).
func (a *API) notifying(h jsonHandler) jsonHandler {
	return func(r *http.Request) (any, error) {
		v, err := h(r)
		if err == nil && a.Webhooks != nil && a.Webhooks.Deliverer != nil {
			a.Webhooks.Deliverer.Notify()
		}
		return v, err
	}
}

type webhookResponse struct {
	Webhook *mlflow.Webhook `json:"webhook"`
}

// webhookEvents reads an events field: a list of WebhookEvent messages.
func webhookEvents(p *params) ([]mlflow.WebhookEvent, error) {
	v, ok := p.raw("events")
	if !ok {
		return nil, nil
	}
	var raw []map[string]any
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, typeError("events", v)
	}
	var out []mlflow.WebhookEvent
	for _, e := range raw {
		ev, err := mlflow.ParseWebhookEvent(e["entity"], e["action"])
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// webhookStatus reads an optional status field ("" when absent).
func webhookStatus(p *params) (string, error) {
	v, ok := p.raw("status")
	if !ok {
		return "", nil
	}
	var x any
	_ = json.Unmarshal(v, &x)
	return mlflow.ParseWebhookStatus(x)
}

func (a *API) encryptSecret(secret string) string {
	if secret == "" {
		return ""
	}
	return a.Webhooks.Cipher.Encrypt(secret)
}

func (a *API) createWebhook(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	name, err := p.requiredStr("name")
	if err != nil {
		return nil, err
	}
	url, err := p.requiredStr("url")
	if err != nil {
		return nil, err
	}
	events, err := webhookEvents(p)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, mlflow.MissingParam("events")
	}
	desc, err := p.str("description")
	if err != nil {
		return nil, err
	}
	secret, err := p.str("secret")
	if err != nil {
		return nil, err
	}
	status, err := webhookStatus(p)
	if err != nil {
		return nil, err
	}
	if err := mlflow.ValidateWebhookName(name); err != nil {
		return nil, err
	}
	if err := a.Webhooks.Guard.CheckURL(r.Context(), url); err != nil {
		return nil, err
	}
	if err := mlflow.ValidateWebhookDescription(desc); err != nil {
		return nil, err
	}
	if err := mlflow.ValidateWebhookSecret(secret); err != nil {
		return nil, err
	}
	w, err := a.Webhooks.Store.CreateWebhook(r.Context(), store.CreateWebhook{
		Name: name, Description: desc, URL: url, Events: events, Secret: a.encryptSecret(secret), Status: status,
	})
	if err != nil {
		return nil, err
	}
	return webhookResponse{w}, nil
}

func (a *API) listWebhooks(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	max, present, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	if !present || max == 0 {
		max = 100
	}
	if max < 1 || max > 1000 {
		return nil, mlflow.InvalidParam("max_results must be between 1 and 1000.")
	}
	token, err := p.str("page_token")
	if err != nil {
		return nil, err
	}
	offset, err := search.DecodeOffsetToken(token)
	if err != nil {
		return nil, err
	}
	ws, next, err := a.Webhooks.Store.ListWebhooks(r.Context(), store.Page{MaxResults: int(max), Offset: offset})
	if err != nil {
		return nil, err
	}
	return struct {
		Webhooks      []mlflow.Webhook `json:"webhooks,omitempty"`
		NextPageToken string           `json:"next_page_token,omitempty"`
	}{ws, next}, nil
}

func (a *API) getWebhook(r *http.Request) (any, error) {
	w, err := a.Webhooks.Store.GetWebhook(r.Context(), r.PathValue("webhook_id"))
	if err != nil {
		return nil, err
	}
	return webhookResponse{&w.Webhook}, nil
}

// updateWebhook changes what the request gives; as MLflow, an empty
// string or an empty events list leaves the field unchanged.
func (a *API) updateWebhook(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	u := store.UpdateWebhook{ID: r.PathValue("webhook_id")}
	fields := map[string]**string{"name": &u.Name, "description": &u.Description, "url": &u.URL, "secret": &u.Secret}
	for _, name := range []string{"name", "description", "url", "secret"} {
		v, err := p.str(name)
		if err != nil {
			return nil, err
		}
		if v != "" {
			*fields[name] = &v
		}
	}
	if u.Events, err = webhookEvents(p); err != nil {
		return nil, err
	}
	status, err := webhookStatus(p)
	if err != nil {
		return nil, err
	}
	if status != "" {
		u.Status = &status
	}
	if _, err := a.Webhooks.Store.GetWebhook(r.Context(), u.ID); err != nil {
		return nil, err
	}
	if u.Name != nil {
		if err := mlflow.ValidateWebhookName(*u.Name); err != nil {
			return nil, err
		}
	}
	if u.URL != nil {
		if err := a.Webhooks.Guard.CheckURL(r.Context(), *u.URL); err != nil {
			return nil, err
		}
	}
	if u.Description != nil {
		if err := mlflow.ValidateWebhookDescription(*u.Description); err != nil {
			return nil, err
		}
	}
	if u.Secret != nil {
		if err := mlflow.ValidateWebhookSecret(*u.Secret); err != nil {
			return nil, err
		}
		enc := a.encryptSecret(*u.Secret)
		u.Secret = &enc
	}
	w, err := a.Webhooks.Store.UpdateWebhook(r.Context(), u)
	if err != nil {
		return nil, err
	}
	return webhookResponse{w}, nil
}

func (a *API) deleteWebhook(r *http.Request) (any, error) {
	if err := a.Webhooks.Store.DeleteWebhook(r.Context(), r.PathValue("webhook_id")); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// testWebhook sends the example payload of the given event (the webhook's
// first by default) and answers the receiver's status and body.
func (a *API) testWebhook(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	var event *mlflow.WebhookEvent
	if v, ok := p.raw("event"); ok {
		var e map[string]any
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, typeError("event", v)
		}
		ev, err := mlflow.ParseWebhookEvent(e["entity"], e["action"])
		if err != nil {
			return nil, err
		}
		event = &ev
	}
	w, err := a.Webhooks.Store.GetWebhook(r.Context(), r.PathValue("webhook_id"))
	if err != nil {
		return nil, err
	}
	res := a.Webhooks.Deliverer.Test(r.Context(), w, event)
	return struct {
		Result webhook.TestResult `json:"result"`
	}{res}, nil
}

// listWebhookDeliveries is mltrack's delivery log of a webhook, newest
// first, with the number of events still waiting in the outbox.
func (a *API) listWebhookDeliveries(r *http.Request) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	id := r.PathValue("webhook_id")
	if _, err := a.Webhooks.Store.GetWebhook(r.Context(), id); err != nil {
		return nil, err
	}
	max, present, err := p.int64Field("max_results")
	if err != nil {
		return nil, err
	}
	if !present || max == 0 {
		max = 100
	}
	if max < 1 || max > 1000 {
		return nil, mlflow.InvalidParam("max_results must be between 1 and 1000.")
	}
	token, err := p.str("page_token")
	if err != nil {
		return nil, err
	}
	offset, err := search.DecodeOffsetToken(token)
	if err != nil {
		return nil, err
	}
	logs, next, err := a.Webhooks.Store.ListDeliveries(r.Context(), id, store.Page{MaxResults: int(max), Offset: offset})
	if err != nil {
		return nil, err
	}
	pending, err := a.Webhooks.Store.PendingDeliveries(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if logs == nil {
		logs = []store.DeliveryLog{}
	}
	return struct {
		Deliveries    []store.DeliveryLog `json:"deliveries"`
		Pending       int                 `json:"pending"`
		NextPageToken string              `json:"next_page_token,omitempty"`
	}{logs, pending, next}, nil
}
