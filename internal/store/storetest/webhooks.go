package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

func testWebhookCRUD(t *testing.T, s *sqlstore.Store) {
	events := []mlflow.WebhookEvent{mlflow.EventRegisteredModelCreated, mlflow.EventModelVersionCreated, mlflow.EventModelVersionTagSet}
	w1 := regMust(s.CreateWebhook(ctx, store.CreateWebhook{Name: "a", URL: "https://a.example/hook", Events: events, Secret: "enc"}))
	if w1.Status != mlflow.WebhookActive || w1.Description != "" || len(w1.Events) != 3 || w1.CreationTimestamp == 0 || w1.CreationTimestamp != w1.LastUpdatedTimestamp {
		t.Fatalf("created %+v", w1)
	}
	// Events come back ordered by entity, then action, as MLflow's on SQLite.
	if got := w1.Events; got[0].Entity != "MODEL_VERSION" || got[1].Entity != "MODEL_VERSION_TAG" || got[2].Entity != "REGISTERED_MODEL" {
		t.Fatalf("events %+v", got)
	}
	rec := regMust(s.GetWebhook(ctx, w1.WebhookID))
	if rec.Secret != "enc" || len(rec.Events) != 3 {
		t.Fatalf("record %+v", rec)
	}
	time.Sleep(2 * time.Millisecond)
	w2 := regMust(s.CreateWebhook(ctx, store.CreateWebhook{Name: "b", URL: "https://b.example/hook", Events: events[:1], Status: mlflow.WebhookDisabled, Description: "d"}))
	time.Sleep(2 * time.Millisecond)
	w3 := regMust(s.CreateWebhook(ctx, store.CreateWebhook{Name: "c", URL: "https://c.example/hook", Events: events[:1]}))
	page, next := regMust2(s.ListWebhooks(ctx, store.Page{MaxResults: 2}))
	if len(page) != 2 || page[0].WebhookID != w3.WebhookID || page[1].WebhookID != w2.WebhookID || next == "" {
		t.Fatalf("first page %v %q", page, next)
	}
	page, next = regMust2(s.ListWebhooks(ctx, store.Page{MaxResults: 2, Offset: 2}))
	if len(page) != 1 || page[0].WebhookID != w1.WebhookID || next != "" {
		t.Fatalf("second page %v %q", page, next)
	}
	name, desc, status, secret := "a2", "new", mlflow.WebhookDisabled, "enc2"
	u := regMust(s.UpdateWebhook(ctx, store.UpdateWebhook{ID: w1.WebhookID, Name: &name, Description: &desc, Status: &status, Secret: &secret,
		Events: []mlflow.WebhookEvent{mlflow.EventPromptAliasDeleted}}))
	if u.Name != "a2" || u.Description != "new" || u.Status != status || u.URL != w1.URL || len(u.Events) != 1 || u.Events[0] != (mlflow.WebhookEventJSON{Entity: "PROMPT_ALIAS", Action: "DELETED"}) || u.LastUpdatedTimestamp < w1.LastUpdatedTimestamp {
		t.Fatalf("updated %+v", u)
	}
	if rec := regMust(s.GetWebhook(ctx, w1.WebhookID)); rec.Secret != "enc2" {
		t.Fatalf("secret after update %q", rec.Secret)
	}
	regMust(0, s.DeleteWebhook(ctx, w2.WebhookID))
	_, err := s.GetWebhook(ctx, w2.WebhookID)
	wantCode(t, err, mlflow.ResourceDoesNotExist, "Webhook with ID "+w2.WebhookID+" not found.")
	wantCode(t, s.DeleteWebhook(ctx, w2.WebhookID), mlflow.ResourceDoesNotExist, "not found")
	_, err = s.UpdateWebhook(ctx, store.UpdateWebhook{ID: w2.WebhookID, Name: &name})
	wantCode(t, err, mlflow.ResourceDoesNotExist, "not found")
	if page, _ := regMust2(s.ListWebhooks(ctx, store.Page{MaxResults: 10})); len(page) != 2 {
		t.Fatalf("list after delete: %v", page)
	}
}

// claimAll claims every due delivery.
func claimAll(t *testing.T, s *sqlstore.Store) []store.Delivery {
	t.Helper()
	return regMust(s.ClaimDeliveries(ctx, time.Minute, 100))
}

func testWebhookOutbox(t *testing.T, s *sqlstore.Store) {
	all := mlflow.WebhookEvents
	active := regMust(s.CreateWebhook(ctx, store.CreateWebhook{Name: "active", URL: "https://a.example", Events: all, Secret: "tok"}))
	regMust(s.CreateWebhook(ctx, store.CreateWebhook{Name: "disabled", URL: "https://d.example", Events: all, Status: mlflow.WebhookDisabled}))
	gone := regMust(s.CreateWebhook(ctx, store.CreateWebhook{Name: "gone", URL: "https://g.example", Events: all}))
	regMust(0, s.DeleteWebhook(ctx, gone.WebhookID))
	only := regMust(s.CreateWebhook(ctx, store.CreateWebhook{Name: "aliases", URL: "https://o.example", Events: []mlflow.WebhookEvent{mlflow.EventModelVersionAliasCreated}}))

	type ev struct{ hook, event, data string }
	check := func(what string, want ...ev) {
		t.Helper()
		got := claimAll(t, s)
		if len(got) != len(want) {
			t.Fatalf("%s: %d deliveries, want %d: %+v", what, len(got), len(want), got)
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				if g.WebhookID == w.hook && g.Event.String() == w.event && g.Data == w.data {
					found = true
					if g.Attempts != 0 || g.URL == "" || g.Gone || time.Since(g.EventTime) > time.Minute {
						t.Errorf("%s: delivery %+v", what, g)
					}
				}
			}
			if !found {
				t.Errorf("%s: no %s for %s with %s in %+v", what, w.event, w.hook, w.data, got)
			}
		}
		for _, g := range got {
			if ok, err := s.FinishDelivery(ctx, g, store.DeliveryAttempt{Time: time.Now(), Outcome: store.DeliveryDelivered, ResponseStatus: 200}); err != nil || !ok {
				t.Fatalf("finish: %v %v", ok, err)
			}
		}
	}
	a := active.WebhookID
	regMust(s.CreateRegisteredModel(ctx, "m", "", []mlflow.Tag{{Key: "team", Value: "ö"}}))
	check("registered model", ev{a, "registered_model.created", `{"name": "m", "tags": {"team": "\u00f6"}, "description": ""}`})
	mv := regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "m", Source: "s3://b/m", Description: "first"}))
	check("version", ev{a, "model_version.created", `{"name": "m", "version": "` + mv.Version + `", "source": "s3://b/m", "run_id": null, "tags": {}, "description": "first"}`})
	regMust(0, s.SetModelVersionTag(ctx, "m", 1, mlflow.Tag{Key: "k", Value: "v"}))
	regMust(0, s.DeleteModelVersionTag(ctx, "m", 1, "k"))
	check("version tags", ev{a, "model_version_tag.set", `{"name": "m", "version": "1", "key": "k", "value": "v"}`}, ev{a, "model_version_tag.deleted", `{"name": "m", "version": "1", "key": "k"}`})
	regMust(0, s.SetRegisteredModelAlias(ctx, "m", "prod", 1))
	regMust(0, s.DeleteRegisteredModelAlias(ctx, "m", "prod"))
	check("aliases", ev{a, "model_version_alias.created", `{"name": "m", "alias": "prod", "version": "1"}`},
		ev{only.WebhookID, "model_version_alias.created", `{"name": "m", "alias": "prod", "version": "1"}`},
		ev{a, "model_version_alias.deleted", `{"name": "m", "alias": "prod"}`})
	// A registered model's own tags fire nothing unless it is a prompt.
	regMust(0, s.SetRegisteredModelTag(ctx, "m", mlflow.Tag{Key: "x", Value: "y"}))
	check("model tag")

	// A failed registry write leaves no event.
	_, err := s.CreateRegisteredModel(ctx, "m", "", nil)
	wantCode(t, err, mlflow.ResourceAlreadyExists, "")
	_, err = s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "missing", Source: "s3://b/x"})
	wantCode(t, err, mlflow.ResourceDoesNotExist, "")
	wantCode(t, s.SetModelVersionTag(ctx, "m", 9, mlflow.Tag{Key: "k", Value: "v"}), mlflow.ResourceDoesNotExist, "")
	wantCode(t, s.SetRegisteredModelAlias(ctx, "m", "a", 9), mlflow.ResourceDoesNotExist, "")
	check("failed writes")

	// Prompts: a registered model tagged mlflow.prompt.is_prompt.
	regMust(s.CreateRegisteredModel(ctx, "p", "a prompt", []mlflow.Tag{{Key: mlflow.TagIsPrompt, Value: "true"}, {Key: "lang", Value: "en"}}))
	check("prompt", ev{a, "prompt.created", `{"name": "p", "tags": {"lang": "en"}, "description": "a prompt"}`})
	regMust(s.CreateModelVersion(ctx, store.CreateModelVersion{Name: "p", Source: "dummy-source", Tags: []mlflow.Tag{
		{Key: mlflow.TagIsPrompt, Value: "true"}, {Key: mlflow.TagPromptText, Value: "Hi {{name}}"}, {Key: mlflow.TagPromptType, Value: "text"}, {Key: "v", Value: "1"}}}))
	check("prompt version", ev{a, "prompt_version.created", `{"name": "p", "version": "1", "template": "Hi {{name}}", "tags": {"v": "1"}, "description": null}`})
	regMust(0, s.SetRegisteredModelTag(ctx, "p", mlflow.Tag{Key: "owner", Value: "me"}))
	regMust(0, s.DeleteRegisteredModelTag(ctx, "p", "owner"))
	regMust(0, s.SetModelVersionTag(ctx, "p", 1, mlflow.Tag{Key: "k", Value: "v"}))
	regMust(0, s.DeleteModelVersionTag(ctx, "p", 1, "k"))
	regMust(0, s.SetRegisteredModelAlias(ctx, "p", "prod", 1))
	regMust(0, s.DeleteRegisteredModelAlias(ctx, "p", "prod"))
	check("prompt tags and aliases",
		ev{a, "prompt_tag.set", `{"name": "p", "key": "owner", "value": "me"}`},
		ev{a, "prompt_tag.deleted", `{"name": "p", "key": "owner"}`},
		ev{a, "prompt_version_tag.set", `{"name": "p", "version": "1", "key": "k", "value": "v"}`},
		ev{a, "prompt_version_tag.deleted", `{"name": "p", "version": "1", "key": "k"}`},
		ev{a, "prompt_alias.created", `{"name": "p", "alias": "prod", "version": "1"}`},
		ev{a, "prompt_alias.deleted", `{"name": "p", "alias": "prod"}`})
}

func testWebhookClaims(t *testing.T, s *sqlstore.Store) {
	w := regMust(s.CreateWebhook(ctx, store.CreateWebhook{Name: "w", URL: "https://w.example", Events: []mlflow.WebhookEvent{mlflow.EventRegisteredModelCreated}, Secret: "tok"}))
	regMust(s.CreateRegisteredModel(ctx, "m1", "", nil))
	regMust(s.CreateRegisteredModel(ctx, "m2", "", nil))
	if n := regMust(s.PendingDeliveries(ctx, w.WebhookID)); n != 2 {
		t.Fatalf("pending %d, want 2", n)
	}
	first := regMust(s.ClaimDeliveries(ctx, time.Minute, 1))
	if len(first) != 1 || first[0].Secret != "tok" || first[0].Status != mlflow.WebhookActive {
		t.Fatalf("first claim %+v", first)
	}
	second := claimAll(t, s)
	if len(second) != 1 || second[0].ID == first[0].ID {
		t.Fatalf("second claim %+v (first %s)", second, first[0].ID)
	}
	if again := claimAll(t, s); len(again) != 0 {
		t.Fatalf("claimed rows were claimed again: %+v", again)
	}
	// A retry is due at its next attempt, with the same delivery id.
	d := first[0]
	if ok := regMust(s.FinishDelivery(ctx, d, store.DeliveryAttempt{Time: time.Now(), Outcome: store.DeliveryRetrying, ResponseStatus: 503, DurationMs: 3, NextAttempt: time.Now().Add(-time.Millisecond)})); !ok {
		t.Fatal("claim not held")
	}
	retry := claimAll(t, s)
	if len(retry) != 1 || retry[0].ID != d.ID || retry[0].Attempts != 1 || retry[0].Claim == d.Claim {
		t.Fatalf("retry claim %+v", retry)
	}
	// The old claim can't finish it any more.
	if ok := regMust(s.FinishDelivery(ctx, d, store.DeliveryAttempt{Time: time.Now(), Outcome: store.DeliveryDelivered})); ok {
		t.Fatal("a stale claim finished a delivery")
	}
	regMust(s.FinishDelivery(ctx, retry[0], store.DeliveryAttempt{Time: time.Now(), Outcome: store.DeliveryFailed, Error: "boom"}))
	// A lease that ran out (a crashed worker) frees the row.
	regMust(s.FinishDelivery(ctx, second[0], store.DeliveryAttempt{Time: time.Now(), Outcome: store.DeliveryRetrying, NextAttempt: time.Now().Add(-time.Millisecond)}))
	short := regMust(s.ClaimDeliveries(ctx, time.Millisecond, 10))
	if len(short) != 1 {
		t.Fatalf("claim %+v", short)
	}
	time.Sleep(5 * time.Millisecond)
	taken := claimAll(t, s)
	if len(taken) != 1 || taken[0].ID != short[0].ID {
		t.Fatalf("expired lease not reclaimed: %+v", taken)
	}
	regMust(s.FinishDelivery(ctx, taken[0], store.DeliveryAttempt{Time: time.Now(), Outcome: store.DeliveryDelivered, ResponseStatus: 200}))
	if n := regMust(s.PendingDeliveries(ctx, w.WebhookID)); n != 0 {
		t.Fatalf("pending %d, want 0", n)
	}
	log, next := regMust2(s.ListDeliveries(ctx, w.WebhookID, store.Page{MaxResults: 10}))
	if len(log) != 4 || next != "" {
		t.Fatalf("log %+v", log)
	}
	outcomes := map[string]int{}
	for _, l := range log {
		outcomes[l.Outcome]++
		if l.Event != "registered_model.created" || l.WebhookID != w.WebhookID || l.Timestamp == 0 {
			t.Errorf("log line %+v", l)
		}
		if l.Outcome == store.DeliveryFailed && (l.Error != "boom" || l.Attempt != 2) {
			t.Errorf("failed line %+v", l)
		}
		if l.Outcome == store.DeliveryRetrying && l.NextAttempt == 0 {
			t.Errorf("retrying line without next attempt %+v", l)
		}
	}
	if outcomes[store.DeliveryRetrying] != 2 || outcomes[store.DeliveryFailed] != 1 || outcomes[store.DeliveryDelivered] != 1 {
		t.Fatalf("outcomes %v", outcomes)
	}
	page, next := regMust2(s.ListDeliveries(ctx, w.WebhookID, store.Page{MaxResults: 3}))
	if len(page) != 3 || next == "" || !strings.HasPrefix(page[0].DeliveryID, log[0].DeliveryID[:8]) {
		t.Fatalf("page %+v %q", page, next)
	}
	// Old log lines are pruned, recent ones kept.
	old := regMust(s.ClaimDeliveries(ctx, time.Minute, 10))
	if len(old) != 0 {
		t.Fatalf("unexpected due deliveries %+v", old)
	}
	if n := regMust(s.PruneDeliveryLog(ctx, time.Now().Add(-time.Hour))); n != 0 {
		t.Fatalf("pruned %d recent lines", n)
	}
	if n := regMust(s.PruneDeliveryLog(ctx, time.Now().Add(time.Second))); n != 4 {
		t.Fatalf("pruned %d lines, want 4", n)
	}
	if log, _ := regMust2(s.ListDeliveries(ctx, w.WebhookID, store.Page{MaxResults: 10})); len(log) != 0 {
		t.Fatalf("log after pruning %+v", log)
	}
	// A deleted webhook's events are claimed as Gone (to be dropped).
	regMust(s.CreateRegisteredModel(ctx, "m3", "", nil))
	regMust(0, s.DeleteWebhook(ctx, w.WebhookID))
	if g := claimAll(t, s); len(g) != 1 || !g[0].Gone {
		t.Fatalf("deleted webhook's delivery %+v", g)
	}
}
