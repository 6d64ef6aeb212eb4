"""mltrack and MLflow 3.6 on one SQLite database: each decrypts the other's webhook secrets.

mltrack creates the database and a webhook with a secret; MLflow's server opens
the same file, lists the webhook and tests it (its signature must verify with
the secret mltrack encrypted) and creates a webhook of its own; mltrack then
delivers an event to both, each signed with its secret. Both servers get the
same MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY.

    MLTRACK_BIN=./mltrack /tmp/mlflow-venv/bin/python test/python-client/webhooks_interop.py

(the `mlflow` command next to the Python running it; the database and logs go
to /tmp/whinterop, emptied first)
"""
import base64, hashlib, hmac, json, os, socket, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import shutil
import requests

shutil.rmtree("/tmp/whinterop", ignore_errors=True)
os.makedirs("/tmp/whinterop")

KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
DB = "sqlite:////tmp/whinterop/mlflow.db"
got = []

class H(BaseHTTPRequestHandler):
    def do_POST(self):
        b = self.rfile.read(int(self.headers["Content-Length"]))
        got.append((dict(self.headers), b.decode()))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass

rs = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=rs.serve_forever, daemon=True).start()
hook = f"http://127.0.0.1:{rs.server_address[1]}/hook"

def port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

env = dict(os.environ, MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY=KEY, MLFLOW_WEBHOOK_ALLOWED_SCHEMES="http", MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS="true")

def start(cmd, p):
    proc = subprocess.Popen(cmd, env=env, stdout=open(f"/tmp/whinterop/{cmd[0].split('/')[-1]}-{p}.log", "w"), stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            if requests.get(f"http://127.0.0.1:{p}/health", timeout=1).ok: return proc
        except requests.RequestException: pass
        time.sleep(0.1)
    raise SystemExit("server did not start: " + " ".join(cmd))

def verify(secret, h, body):
    want = "v1," + base64.b64encode(hmac.new(secret.encode(), f"{h['X-MLflow-Delivery-Id']}.{h['X-MLflow-Timestamp']}.{body}".encode(), hashlib.sha256).digest()).decode()
    return h.get("X-MLflow-Signature") == want

ev = [{"entity": "MODEL_VERSION", "action": "CREATED"}]
# 1. mltrack creates the schema and a webhook with a secret.
p1 = port(); m = start([os.environ["MLTRACK_BIN"], "server", "--port", str(p1), "--backend-store-uri", DB, "--artifacts-destination", "/tmp/whinterop/art"], p1)
w1 = requests.post(f"http://127.0.0.1:{p1}/api/2.0/mlflow/webhooks", json={"name": "from-mltrack", "url": hook, "events": ev, "secret": "mltrack-secret"}).json()["webhook"]
m.terminate(); m.wait()
# 2. MLflow opens the same database, reads it, tests mltrack's webhook (decrypting its secret) and makes one of its own.
p2 = port(); f = start([os.path.dirname(sys.executable) + "/mlflow", "server", "--port", str(p2), "--backend-store-uri", DB, "--default-artifact-root", "/tmp/whinterop/art", "--workers", "1"], p2)
try:
    lst = requests.get(f"http://127.0.0.1:{p2}/api/2.0/mlflow/webhooks").json()
    assert [w["name"] for w in lst["webhooks"]] == ["from-mltrack"], lst
    r = requests.post(f"http://127.0.0.1:{p2}/api/2.0/mlflow/webhooks/{w1['webhook_id']}/test", json={}).json()
    assert r["result"]["success"], r
    h, b = got[-1]
    assert verify("mltrack-secret", h, b), "MLflow's signature with mltrack's stored secret"
    print("ok MLflow read mltrack's webhook and signed with its secret")
    w2 = requests.post(f"http://127.0.0.1:{p2}/api/2.0/mlflow/webhooks", json={"name": "from-mlflow", "url": hook, "events": ev, "secret": "mlflow-secret"}).json()["webhook"]
finally:
    for c in __import__("psutil").Process(f.pid).children(recursive=True): c.terminate()
    f.terminate(); f.wait()
# 3. mltrack again: delivers an event to both, signing with each secret (MLflow's token decrypted).
got.clear()
p3 = port(); m = start([os.environ["MLTRACK_BIN"], "server", "--port", str(p3), "--backend-store-uri", DB, "--artifacts-destination", "/tmp/whinterop/art"], p3)
try:
    base = f"http://127.0.0.1:{p3}/api/2.0/mlflow/"
    requests.post(base + "registered-models/create", json={"name": "interop"}).raise_for_status()
    requests.post(base + "model-versions/create", json={"name": "interop", "source": "s3://bucket/model"}).raise_for_status()
    for _ in range(100):
        if len(got) >= 2: break
        time.sleep(0.1)
    assert len(got) == 2, got
    secrets = {"mltrack-secret", "mlflow-secret"}
    for h, b in got:
        ok = [s for s in secrets if verify(s, h, b)]
        assert len(ok) == 1, (h, b)
        secrets -= set(ok)
    print("ok mltrack delivered to MLflow's webhook, signed with the secret MLflow encrypted")
finally:
    m.terminate(); m.wait()
