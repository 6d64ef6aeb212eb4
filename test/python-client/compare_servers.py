"""Compares what two tracking servers answer about the same database.

Run `mlflow server` and `mltrack server` on one database (say, one that
mltrack wrote, to check MLflow reads it: the "and back" of
docs/migration.md), then:

    python3 test/python-client/compare_servers.py http://127.0.0.1:5000 http://127.0.0.1:5001

It reads every experiment, run, metric history, artifact listing,
registered model, model version and logged model through both and prints
each answer that differs (as parsed JSON, with its status). Exit status 1
when any differs. Needs only `requests`.
"""

import json
import sys

import requests

A, B = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
P = "/api/2.0/mlflow/"
calls = 0
diffs = 0


def answer(base, method, path, arg):
    if method == "GET":
        r = requests.get(base + path, params=arg, timeout=60)
    else:
        r = requests.post(base + path, json=arg, timeout=60)
    return r.status_code, (r.json() if r.content else None)


def both(method, path, arg):
    global calls, diffs
    calls += 1
    a, b = answer(A, method, path, arg), answer(B, method, path, arg)
    if a != b:
        diffs += 1
        sa, sb = json.dumps(a, sort_keys=True), json.dumps(b, sort_keys=True)
        i = next((k for k in range(min(len(sa), len(sb))) if sa[k] != sb[k]), 0)
        print(f"DIFF {method} {path} {arg}\n  {A}: ...{sa[max(0, i - 150):i + 200]}\n  {B}: ...{sb[max(0, i - 150):i + 200]}")
    return a[1] or {}


for e in both("POST", P + "experiments/search", {"max_results": 1000, "view_type": "ALL"}).get("experiments", []):
    eid = e["experiment_id"]
    both("GET", P + "experiments/get", {"experiment_id": eid})
    runs = both("POST", P + "runs/search", {"experiment_ids": [eid], "max_results": 1000, "run_view_type": "ALL"}).get("runs", [])
    both("POST", P + "runs/search", {"experiment_ids": [eid], "order_by": ["metrics.test_accuracy DESC"], "filter": "attributes.status = 'FINISHED'"})
    for r in runs:
        rid = r["info"]["run_id"]
        run = both("GET", P + "runs/get", {"run_id": rid}).get("run", {})
        for m in run.get("data", {}).get("metrics", []):
            # max_results always: without it MLflow 3.6 answers an empty page (docs/compatibility.md).
            both("GET", P + "metrics/get-history", {"run_id": rid, "metric_key": m["key"], "max_results": 25000})
        for entry in both("GET", P + "artifacts/list", {"run_id": rid}).get("files", []):
            if entry.get("is_dir"):
                both("GET", P + "artifacts/list", {"run_id": rid, "path": entry["path"]})
    both("POST", P + "logged-models/search", {"experiment_ids": [eid]})
for rm in both("GET", P + "registered-models/search", {"max_results": 1000}).get("registered_models", []):
    both("GET", P + "registered-models/get", {"name": rm["name"]})
    for v in both("GET", P + "model-versions/search", {"filter": f"name='{rm['name']}'"}).get("model_versions", []):
        both("GET", P + "model-versions/get", {"name": rm["name"], "version": v["version"]})
        both("GET", P + "model-versions/get-download-uri", {"name": rm["name"], "version": v["version"]})

print(f"{calls} requests compared, {diffs} differ")
sys.exit(1 if diffs else 0)
