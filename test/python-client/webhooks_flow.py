"""The registry webhooks flow with the official mlflow client, as a new user writes it.

A small HTTP receiver runs in this process (127.0.0.1, a free port); the
flow creates webhooks that point at it with `MlflowClient().create_webhook`,
lists, reads, updates and tests them, then registers a model, a version,
a version tag and an alias, and checks that every delivery arrives with
MLflow's payload and an `X-MLflow-Signature` that verifies with the secret
(`v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">`).
A disabled webhook gets nothing; a webhook without a secret gets unsigned
deliveries; a prompt fires the prompt events, not the model ones.

The server must accept http:// receivers on loopback. For MLflow's own
server (3.6):

    MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY=<a Fernet key> mlflow server ...
    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python3 test/python-client/webhooks_flow.py

(run.sh shows the flags mltrack takes). MLflow delivers from a thread after
answering, and caches each event's webhook list for MLFLOW_WEBHOOK_CACHE_TTL
(60 s): so every webhook here is created before the first event of its kind,
and none is changed in a way that would alter deliveries afterwards.
FLOW_WEBHOOK_WAIT (seconds, default 20) bounds the wait for each delivery.
"""

import base64
import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from flowsteps import check, run_steps, step


state = {}
suffix = os.environ.get("FLOW_SUFFIX", str(int(time.time())))
MODEL = f"food11-hooked-{suffix}"
PROMPT = f"hooked-prompt-{suffix}"
SECRET = "s3cret-for-the-flow"
WAIT = float(os.environ.get("FLOW_WEBHOOK_WAIT", "20"))


class Receiver(BaseHTTPRequestHandler):
    """Records every POST; /missing answers 404, everything else 200."""

    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            self.got.append({"path": self.path, "headers": dict(self.headers), "body": body, "at": time.time()})
        status, reply = (404, b'{"error": "no such hook"}') if self.path == "/missing" else (200, b'{"received": true}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def deliveries(path, entity=None, action=None):
    with Receiver.lock:
        got = [d for d in Receiver.got if d["path"] == path]
    out = []
    for d in got:
        p = json.loads(d["body"])
        if (entity is None or p["entity"] == entity) and (action is None or p["action"] == action):
            out.append((d, p))
    return out


def wait_for(path, entity, action, n=1):
    deadline = time.time() + WAIT
    while time.time() < deadline:
        found = deliveries(path, entity, action)
        if len(found) >= n:
            return found
        time.sleep(0.05)
    seen = [(d["path"], json.loads(d["body"]).get("entity"), json.loads(d["body"]).get("action")) for d in Receiver.got]
    raise AssertionError(f"no {entity}.{action} delivery to {path} within {WAIT}s; got {seen}")


def verify(delivery, secret=SECRET):
    """Checks MLflow's headers and signature; returns the parsed body."""
    h = {k.lower(): v for k, v in delivery["headers"].items()}
    check(h.get("content-type") == "application/json", f"content type {h.get('content-type')}")
    delivery_id, ts = h.get("x-mlflow-delivery-id"), h.get("x-mlflow-timestamp")
    check(delivery_id and len(delivery_id) == 36, f"delivery id {delivery_id}")
    check(ts and ts.isdigit() and abs(int(ts) - time.time()) < 300, f"timestamp {ts}")
    sig = h.get("x-mlflow-signature")
    if secret is None:
        check(sig is None, f"unsigned webhook got a signature {sig}")
    else:
        check(sig and sig.startswith("v1,"), f"signature {sig}")
        signed = f"{delivery_id}.{ts}.".encode() + delivery["body"]
        want = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
        check(hmac.compare_digest(sig[3:], want), "the signature verifies with the secret")
        wrong = base64.b64encode(hmac.new(b"not-the-secret", signed, hashlib.sha256).digest()).decode()
        check(sig[3:] != wrong, "and not with another one")
    payload = json.loads(delivery["body"])
    check(set(payload) == {"entity", "action", "timestamp", "data"}, f"payload keys {sorted(payload)}")
    check("T" in payload["timestamp"] and payload["timestamp"].endswith("+00:00"), f"ISO timestamp {payload['timestamp']}")
    return payload


@step("a local receiver, and webhooks pointing at it")
def create():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    client = MlflowClient()
    events = ["registered_model.created", "model_version.created"]
    wh = client.create_webhook(name=f"ci-{suffix}", url=state["base"] + "/hook", events=events, secret=SECRET, description="CI/CD trigger")
    state["hook"] = wh.webhook_id
    check(wh.webhook_id, "webhook id")
    check(wh.name == f"ci-{suffix}" and wh.url == state["base"] + "/hook" and wh.description == "CI/CD trigger", f"fields {wh}")
    check(sorted(str(e) for e in wh.events) == sorted(events), f"events {wh.events}")
    check(str(wh.status) == "ACTIVE", f"status {wh.status}")
    check(not wh.secret, "the secret is never returned")
    check(wh.creation_timestamp > 0 and wh.last_updated_timestamp >= wh.creation_timestamp, "timestamps")
    off = client.create_webhook(name=f"off-{suffix}", url=state["base"] + "/disabled", events=["model_version.created", "registered_model.created"], secret=SECRET, status="DISABLED")
    check(str(off.status) == "DISABLED", f"created disabled: {off.status}")
    state["off"] = off.webhook_id
    plain = client.create_webhook(name=f"plain-{suffix}", url=state["base"] + "/plain", events=["registered_model.created"])
    state["plain"] = plain.webhook_id
    prompts = client.create_webhook(
        name=f"prompts-{suffix}", url=state["base"] + "/prompts", secret=SECRET, events=["prompt.created", "prompt_version.created", "prompt_alias.created"]
    )
    state["prompts"] = prompts.webhook_id
    missing = client.create_webhook(name=f"missing-{suffix}", url=state["base"] + "/missing", events=["model_version_tag.deleted"])
    state["missing"] = missing.webhook_id


@step("create_webhook refuses what MLflow refuses")
def refuse():
    client = MlflowClient()
    for url in ["ftp://127.0.0.1/hook", "", "not a url"]:
        try:
            client.create_webhook(name=f"bad-{suffix}", url=url, events=["model_version.created"])
            check(False, f"url {url!r} accepted")
        except MlflowException as e:
            check(e.error_code == "INVALID_PARAMETER_VALUE", f"{url!r}: {e.error_code}: {e.message}")
    try:
        client.create_webhook(name=f"bad-{suffix}", url=state["base"] + "/hook", events=[])
        check(False, "no events accepted")
    except MlflowException as e:
        check(e.error_code == "INVALID_PARAMETER_VALUE", f"{e.error_code}: {e.message}")


@step("list_webhooks (with pages), get_webhook")
def list_get():
    client = MlflowClient()
    mine = {state[k] for k in ["hook", "off", "plain", "prompts", "missing"]}
    found = client.list_webhooks()
    check(mine <= {w.webhook_id for w in found}, "all five listed")
    seen, token = [], None
    for _ in range(50):
        page = client.list_webhooks(max_results=2, page_token=token)
        check(len(page) <= 2, f"page of {len(page)}")
        seen += [w.webhook_id for w in page]
        token = page.token
        if not token:
            break
    check(mine <= set(seen) and len(seen) == len(set(seen)), f"paged listing {seen}")
    wh = client.get_webhook(state["hook"])
    check(wh.name == f"ci-{suffix}" and wh.url == state["base"] + "/hook" and not wh.secret, f"get {wh}")
    try:
        client.get_webhook("0" * 32)
        check(False, "unknown webhook found")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", f"{e.error_code}: {e.message}")


@step("update_webhook: name, description, events, status")
def update():
    client = MlflowClient()
    events = ["registered_model.created", "model_version.created", "model_version_tag.set", "model_version_alias.created"]
    wh = client.update_webhook(state["hook"], name=f"ci-cd-{suffix}", description="builds and deploys", events=events)
    check(wh.name == f"ci-cd-{suffix}" and wh.description == "builds and deploys", f"updated {wh}")
    check(sorted(str(e) for e in wh.events) == sorted(events), f"events {wh.events}")
    check(wh.url == state["base"] + "/hook" and str(wh.status) == "ACTIVE", "untouched fields kept")
    check(wh.last_updated_timestamp >= wh.creation_timestamp, "last update time")
    again = client.get_webhook(state["hook"])
    check(again.name == f"ci-cd-{suffix}" and sorted(str(e) for e in again.events) == sorted(events), "update read back")
    p = client.update_webhook(state["plain"], status="DISABLED")
    check(str(p.status) == "DISABLED", f"disabled {p.status}")
    p = client.update_webhook(state["plain"], status="ACTIVE")
    check(str(p.status) == "ACTIVE", f"enabled again {p.status}")
    try:
        client.update_webhook(state["hook"], url="ftp://127.0.0.1/x")
        check(False, "bad url accepted on update")
    except MlflowException as e:
        check(e.error_code == "INVALID_PARAMETER_VALUE", f"{e.error_code}: {e.message}")


@step("test_webhook sends the event's example payload, signed, and answers the receiver's reply")
def test():
    client = MlflowClient()
    res = client.test_webhook(state["hook"], event="model_version.created")
    check(res.success and res.response_status == 200, f"test result {res}")
    check(json.loads(res.response_body) == {"received": True}, f"receiver's body {res.response_body}")
    d, p = wait_for("/hook", "model_version", "created")[0]
    payload = verify(d)
    check(payload["data"]["name"] == "example_model" and payload["data"]["version"] == "1", f"example payload {payload['data']}")
    res = client.test_webhook(state["missing"])
    check(not res.success and res.response_status == 404, f"a 404 receiver: {res}")
    check("no such hook" in (res.response_body or ""), f"its body {res.response_body}")
    wait_for("/missing", "model_version_tag", "deleted")
    with Receiver.lock:
        Receiver.got.clear()


@step("registering a model and a version delivers signed registry events")
def register():
    client = MlflowClient()
    client.create_registered_model(MODEL, tags={"team": "vision"}, description="food classifier")
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "weights.txt")
        with open(path, "w") as f:
            f.write("0.1 0.2 0.3\n")
        mlflow.log_artifact(path, "model")
    source = f"runs:/{run.info.run_id}/model"
    mv = client.create_model_version(MODEL, source, run_id=run.info.run_id, tags={"stage": "candidate"}, description="first cut")
    check(mv.version == "1", f"version {mv.version}")
    client.set_model_version_tag(MODEL, "1", "validated", "yes")
    client.set_registered_model_alias(MODEL, "champion", "1")

    d, _ = wait_for("/hook", "registered_model", "created")[0]
    p = verify(d)
    check(p["data"] == {"name": MODEL, "tags": {"team": "vision"}, "description": "food classifier"}, f"registered_model.created {p['data']}")

    d, _ = wait_for("/hook", "model_version", "created")[0]
    p = verify(d)
    want = {"name": MODEL, "version": "1", "source": source, "run_id": run.info.run_id, "tags": {"stage": "candidate"}, "description": "first cut"}
    check(p["data"] == want, f"model_version.created {p['data']} != {want}")

    d, _ = wait_for("/hook", "model_version_tag", "set")[0]
    p = verify(d)
    check(p["data"] == {"name": MODEL, "version": "1", "key": "validated", "value": "yes"}, f"model_version_tag.set {p['data']}")

    d, _ = wait_for("/hook", "model_version_alias", "created")[0]
    p = verify(d)
    check(p["data"] == {"name": MODEL, "alias": "champion", "version": "1"}, f"model_version_alias.created {p['data']}")

    d, _ = wait_for("/plain", "registered_model", "created")[0]
    p = verify(d, secret=None)
    check(p["data"]["name"] == MODEL, "the webhook without a secret got it too, unsigned")
    ids = [dd["headers"].get("X-MLflow-Delivery-Id") for dd in Receiver.got]
    check(len(ids) == len(set(ids)), "each delivery has its own id")


@step("a disabled webhook and unsubscribed events deliver nothing")
def quiet():
    client = MlflowClient()
    client.delete_model_version_tag(MODEL, "1", "validated")  # only "missing" listens to this
    wait_for("/missing", "model_version_tag", "deleted")
    time.sleep(1.0)
    check(deliveries("/disabled") == [], f"disabled webhook got {len(deliveries('/disabled'))} deliveries")
    check(deliveries("/hook", "model_version_tag", "deleted") == [], "no delivery for an event the webhook didn't subscribe to")
    check(len(deliveries("/hook", "model_version", "created")) == 1, "one delivery per event, no duplicates")
    check(len(deliveries("/plain")) == 1, "the plain webhook got only its event")


@step("a prompt fires the prompt events, not the model ones")
def prompts():
    mlflow.genai.register_prompt(name=PROMPT, template="Summarize: {{text}}", commit_message="first")
    mlflow.genai.set_prompt_alias(PROMPT, alias="production", version=1)
    d, _ = wait_for("/prompts", "prompt", "created")[0]
    p = verify(d)
    check(p["data"]["name"] == PROMPT, f"prompt.created {p['data']}")
    d, _ = wait_for("/prompts", "prompt_version", "created")[0]
    p = verify(d)
    check(p["data"]["name"] == PROMPT and p["data"]["version"] == "1" and p["data"]["template"] == "Summarize: {{text}}", f"prompt_version.created {p['data']}")
    d, _ = wait_for("/prompts", "prompt_alias", "created")[0]
    p = verify(d)
    check(p["data"] == {"name": PROMPT, "alias": "production", "version": "1"}, f"prompt_alias.created {p['data']}")
    time.sleep(0.5)
    names = [json.loads(d["body"])["data"].get("name") for d in Receiver.got if d["path"] in ("/hook", "/plain")]
    check(PROMPT not in names, "model webhooks got nothing about the prompt")


@step("delete_webhook")
def delete():
    client = MlflowClient()
    for key in ["hook", "off", "plain", "prompts", "missing"]:
        client.delete_webhook(state[key])
    try:
        client.get_webhook(state["hook"])
        check(False, "deleted webhook found")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", f"{e.error_code}: {e.message}")
    left = {w.webhook_id for w in client.list_webhooks()}
    check(not (left & {state[k] for k in ["hook", "off", "plain", "prompts", "missing"]}), "none listed")


if __name__ == "__main__":
    run_steps()
