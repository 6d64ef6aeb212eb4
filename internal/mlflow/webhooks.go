package mlflow

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook statuses, as stored in webhooks.status and sent on the wire.
const (
	WebhookActive   = "ACTIVE"
	WebhookDisabled = "DISABLED"
)

// Tags of prompts that MLflow keeps out of webhook payloads.
const (
	TagPromptType = "_mlflow_prompt_type"
	TagPromptText = "mlflow.prompt.text"
)

// WebhookEvent is an (entity, action) pair, in MLflow's lowercase form
// ("model_version", "created"), as stored in webhook_events.
type WebhookEvent struct {
	Entity string
	Action string
}

// String is MLflow's "entity.action" form.
func (e WebhookEvent) String() string { return e.Entity + "." + e.Action }

// The events MLflow 3.6 fires (mlflow/entities/webhook.py VALID_ENTITY_ACTIONS).
var (
	EventRegisteredModelCreated   = WebhookEvent{"registered_model", "created"}
	EventModelVersionCreated      = WebhookEvent{"model_version", "created"}
	EventModelVersionTagSet       = WebhookEvent{"model_version_tag", "set"}
	EventModelVersionTagDeleted   = WebhookEvent{"model_version_tag", "deleted"}
	EventModelVersionAliasCreated = WebhookEvent{"model_version_alias", "created"}
	EventModelVersionAliasDeleted = WebhookEvent{"model_version_alias", "deleted"}
	EventPromptCreated            = WebhookEvent{"prompt", "created"}
	EventPromptVersionCreated     = WebhookEvent{"prompt_version", "created"}
	EventPromptTagSet             = WebhookEvent{"prompt_tag", "set"}
	EventPromptTagDeleted         = WebhookEvent{"prompt_tag", "deleted"}
	EventPromptVersionTagSet      = WebhookEvent{"prompt_version_tag", "set"}
	EventPromptVersionTagDeleted  = WebhookEvent{"prompt_version_tag", "deleted"}
	EventPromptAliasCreated       = WebhookEvent{"prompt_alias", "created"}
	EventPromptAliasDeleted       = WebhookEvent{"prompt_alias", "deleted"}
)

// WebhookEvents lists every valid event, in MLflow's order.
var WebhookEvents = []WebhookEvent{
	EventRegisteredModelCreated, EventModelVersionCreated, EventModelVersionTagSet, EventModelVersionTagDeleted,
	EventModelVersionAliasCreated, EventModelVersionAliasDeleted, EventPromptCreated, EventPromptVersionCreated,
	EventPromptTagSet, EventPromptTagDeleted, EventPromptVersionTagSet, EventPromptVersionTagDeleted,
	EventPromptAliasCreated, EventPromptAliasDeleted,
}

// webhookEntities and webhookActions are the proto enums' names by number.
var (
	webhookEntities = []string{"ENTITY_UNSPECIFIED", "REGISTERED_MODEL", "MODEL_VERSION", "MODEL_VERSION_TAG", "MODEL_VERSION_ALIAS", "PROMPT", "PROMPT_VERSION", "PROMPT_TAG", "PROMPT_VERSION_TAG", "PROMPT_ALIAS"}
	webhookActions  = []string{"ACTION_UNSPECIFIED", "CREATED", "UPDATED", "DELETED", "SET"}
)

// enumName reads a proto enum value given by name or number.
func enumName(v any, names []string) (string, bool) {
	switch x := v.(type) {
	case string:
		for _, n := range names {
			if n == x {
				return n, true
			}
		}
		if i, err := strconv.Atoi(x); err == nil && i >= 0 && i < len(names) {
			return names[i], true
		}
	case float64:
		if i := int(x); float64(i) == x && i >= 0 && i < len(names) {
			return names[i], true
		}
	}
	return "", false
}

// ParseWebhookEvent reads a WebhookEvent message ({"entity": "MODEL_VERSION",
// "action": "CREATED"}; names or numbers) and checks the combination as
// MLflow's WebhookEvent does.
func ParseWebhookEvent(entity, action any) (WebhookEvent, error) {
	en, ok := enumName(entity, webhookEntities)
	if !ok || en == webhookEntities[0] {
		return WebhookEvent{}, InvalidParam("Invalid webhook event entity: %v", entity)
	}
	an, ok := enumName(action, webhookActions)
	if !ok || an == webhookActions[0] {
		return WebhookEvent{}, InvalidParam("Invalid webhook event action: %v", action)
	}
	e := WebhookEvent{strings.ToLower(en), strings.ToLower(an)}
	var valid []string
	for _, v := range WebhookEvents {
		if v.Entity == e.Entity {
			if v.Action == e.Action {
				return e, nil
			}
			valid = append(valid, "'"+v.Action+"'")
		}
	}
	sort.Strings(valid)
	return WebhookEvent{}, InvalidParam("Invalid action '%s' for entity '%s'. Valid actions are: [%s]", e.Action, e.Entity, strings.Join(valid, ", "))
}

// WebhookEventJSON is an event on the wire: proto enum names.
type WebhookEventJSON struct {
	Entity string `json:"entity"`
	Action string `json:"action"`
}

// JSON is the event's wire form.
func (e WebhookEvent) JSON() WebhookEventJSON {
	return WebhookEventJSON{strings.ToUpper(e.Entity), strings.ToUpper(e.Action)}
}

// Webhook is a registry webhook as the API answers it (the secret is never
// part of it).
type Webhook struct {
	WebhookID            string             `json:"webhook_id"`
	Name                 string             `json:"name"`
	Description          string             `json:"description,omitempty"`
	URL                  string             `json:"url"`
	Events               []WebhookEventJSON `json:"events"`
	Status               string             `json:"status"`
	CreationTimestamp    int64              `json:"creation_timestamp"`
	LastUpdatedTimestamp int64              `json:"last_updated_timestamp"`
}

var webhookNameRE = regexp.MustCompile(`(?i)^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

// ValidateWebhookName is MLflow's _validate_webhook_name.
func ValidateWebhookName(name string) error {
	if utf8.RuneCountInString(name) > 63 || !webhookNameRE.MatchString(name) {
		return InvalidParam("Webhook name %s is invalid. It must start and end with a letter or digit, be less than 63 characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-).", PyRepr(name))
	}
	return nil
}

// ValidateWebhookDescription bounds a description to its column.
func ValidateWebhookDescription(d string) error {
	if utf8.RuneCountInString(d) > 1000 {
		return InvalidParam("Webhook description must be at most 1000 characters, got %d.", utf8.RuneCountInString(d))
	}
	return nil
}

// ValidateWebhookSecret bounds a secret so that its encrypted form fits
// webhooks.secret (VARCHAR(1000)): Fernet adds 57 bytes and base64 4/3.
func ValidateWebhookSecret(s string) error {
	if len(s) > 640 {
		return InvalidParam("Webhook secret must be at most 640 bytes, got %d.", len(s))
	}
	return nil
}

// ParseWebhookStatus reads a WebhookStatus given by name or number.
func ParseWebhookStatus(v any) (string, error) {
	n, ok := enumName(v, []string{"", WebhookActive, WebhookDisabled})
	if !ok || n == "" {
		return "", InvalidParam("Invalid webhook status: %v", v)
	}
	return n, nil
}

// PayloadField is one key of a webhook payload, in order. Value is a
// string, nil (JSON null) or []Tag (a JSON object of tags, in order).
type PayloadField struct {
	Key   string
	Value any
}

// Payload is the "data" of a webhook delivery, fields in MLflow's order.
type Payload []PayloadField

// optional is MLflow's `value or None`.
func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// RegisteredModelCreatedPayload is registered_model.created; description
// is the request's ("" when it gave none, as MLflow's proto default).
func RegisteredModelCreatedPayload(name, description string, tags []Tag) Payload {
	return Payload{{"name", name}, {"tags", tagObject(tags)}, {"description", description}}
}

// PromptCreatedPayload is prompt.created: the tags without the prompt markers.
func PromptCreatedPayload(name, description string, tags []Tag) Payload {
	return Payload{{"name", name}, {"tags", tagObject(withoutKeys(tags, TagIsPrompt, TagPromptType))}, {"description", description}}
}

// ModelVersionCreatedPayload is model_version.created.
func ModelVersionCreatedPayload(name string, version int64, source, runID, description string, tags []Tag) Payload {
	return Payload{{"name", name}, {"version", strconv.FormatInt(version, 10)}, {"source", source},
		{"run_id", optional(runID)}, {"tags", tagObject(tags)}, {"description", optional(description)}}
}

// PromptVersionCreatedPayload is prompt_version.created: the template is
// the mlflow.prompt.text tag (null without it), taken out of the tags with
// the prompt markers.
func PromptVersionCreatedPayload(name string, version int64, description string, tags []Tag) Payload {
	var template any
	for _, t := range tags {
		if t.Key == TagPromptText {
			template = t.Value
		}
	}
	return Payload{{"name", name}, {"version", strconv.FormatInt(version, 10)}, {"template", template},
		{"tags", tagObject(withoutKeys(tags, TagPromptText, TagIsPrompt, TagPromptType))}, {"description", optional(description)}}
}

// TagSetPayload is model_version_tag.set and prompt_version_tag.set (with
// a version) and prompt_tag.set (version "").
func TagSetPayload(name, version, key, value string) Payload {
	p := Payload{{"name", name}}
	if version != "" {
		p = append(p, PayloadField{"version", version})
	}
	return append(p, PayloadField{"key", key}, PayloadField{"value", value})
}

// TagDeletedPayload is the .deleted counterpart of TagSetPayload.
func TagDeletedPayload(name, version, key string) Payload {
	p := Payload{{"name", name}}
	if version != "" {
		p = append(p, PayloadField{"version", version})
	}
	return append(p, PayloadField{"key", key})
}

// AliasCreatedPayload is model_version_alias.created and prompt_alias.created.
func AliasCreatedPayload(name, alias, version string) Payload {
	return Payload{{"name", name}, {"alias", alias}, {"version", version}}
}

// AliasDeletedPayload is model_version_alias.deleted and prompt_alias.deleted.
func AliasDeletedPayload(name, alias string) Payload {
	return Payload{{"name", name}, {"alias", alias}}
}

// ExamplePayload is MLflow's example payload of an event (test deliveries).
func ExamplePayload(e WebhookEvent) Payload {
	ex := []Tag{{Key: "example_key", Value: "example_value"}}
	switch e {
	case EventRegisteredModelCreated:
		return Payload{{"name", "example_model"}, {"tags", ex}, {"description", "An example registered model"}}
	case EventModelVersionCreated:
		return Payload{{"name", "example_model"}, {"version", "1"}, {"source", "models:/123"}, {"run_id", "abcd1234abcd5678"}, {"tags", ex}, {"description", "An example model version"}}
	case EventModelVersionTagSet:
		return TagSetPayload("example_model", "1", "example_key", "example_value")
	case EventModelVersionTagDeleted:
		return TagDeletedPayload("example_model", "1", "example_key")
	case EventModelVersionAliasCreated:
		return AliasCreatedPayload("example_model", "example_alias", "1")
	case EventModelVersionAliasDeleted:
		return AliasDeletedPayload("example_model", "example_alias")
	case EventPromptCreated:
		return Payload{{"name", "example_prompt"}, {"tags", ex}, {"description", "An example prompt"}}
	case EventPromptVersionCreated:
		return Payload{{"name", "example_prompt"}, {"version", "1"}, {"template", "Hello {{name}}!"}, {"tags", ex}, {"description", "An example prompt version"}}
	case EventPromptTagSet:
		return TagSetPayload("example_prompt", "", "example_key", "example_value")
	case EventPromptTagDeleted:
		return TagDeletedPayload("example_prompt", "", "example_key")
	case EventPromptVersionTagSet:
		return TagSetPayload("example_prompt", "1", "example_key", "example_value")
	case EventPromptVersionTagDeleted:
		return TagDeletedPayload("example_prompt", "1", "example_key")
	case EventPromptAliasCreated:
		return AliasCreatedPayload("example_prompt", "example_alias", "1")
	case EventPromptAliasDeleted:
		return AliasDeletedPayload("example_prompt", "example_alias")
	}
	return nil
}

// tagObject keeps the last value of each key at the key's first place, as
// a Python dict built from the request's tags.
func tagObject(tags []Tag) []Tag {
	out := []Tag{}
	idx := map[string]int{}
	for _, t := range tags {
		if i, ok := idx[t.Key]; ok {
			out[i].Value = t.Value
			continue
		}
		idx[t.Key] = len(out)
		out = append(out, t)
	}
	return out
}

func withoutKeys(tags []Tag, keys ...string) []Tag {
	var out []Tag
	for _, t := range tags {
		drop := false
		for _, k := range keys {
			drop = drop || t.Key == k
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// EncodeData writes a payload as Python's json.dumps does (", " and ": "
// separators, non-ASCII escaped).
func (p Payload) EncodeData() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		pyString(&b, f.Key)
		b.WriteString(": ")
		switch v := f.Value.(type) {
		case nil:
			b.WriteString("null")
		case string:
			pyString(&b, v)
		case []Tag:
			b.WriteByte('{')
			for j, t := range v {
				if j > 0 {
					b.WriteString(", ")
				}
				pyString(&b, t.Key)
				b.WriteString(": ")
				pyString(&b, t.Value)
			}
			b.WriteByte('}')
		}
	}
	b.WriteByte('}')
	return b.String()
}

// WebhookBody is the body of a delivery, as MLflow's
// _send_webhook_request writes it: entity, action, the event's time in
// Python's isoformat, and the payload (already encoded by EncodeData).
func WebhookBody(e WebhookEvent, at time.Time, data string) string {
	var b strings.Builder
	b.WriteString(`{"entity": `)
	pyString(&b, e.Entity)
	b.WriteString(`, "action": `)
	pyString(&b, e.Action)
	b.WriteString(`, "timestamp": `)
	pyString(&b, PyISOFormat(at))
	b.WriteString(`, "data": `)
	b.WriteString(data)
	b.WriteByte('}')
	return b.String()
}

// PyISOFormat is Python's datetime.now(timezone.utc).isoformat():
// microseconds unless they are zero, and "+00:00".
func PyISOFormat(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05") + "+00:00"
	}
	return t.Format("2006-01-02T15:04:05.000000") + "+00:00"
}

// pyString writes s as a JSON string the way Python's json.dumps does with
// ensure_ascii: everything outside printable ASCII as \uXXXX (UTF-16).
func pyString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	u := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hex[r>>12&0xf])
		b.WriteByte(hex[r>>8&0xf])
		b.WriteByte(hex[r>>4&0xf])
		b.WriteByte(hex[r&0xf])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0x10000:
			r -= 0x10000
			u(0xd800 + (r>>10)&0x3ff)
			u(0xdc00 + r&0x3ff)
		default:
			u(r)
		}
	}
	b.WriteByte('"')
}
