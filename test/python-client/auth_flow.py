"""Auth as a new user tries it, with the official mlflow client.

Start the server with auth on and private-by-default permissions, then run
this by hand where the `mlflow` package (3.x) and scikit-learn are installed:

    MLFLOW_AUTH_ADMIN_PASSWORD=admin-password-1234 \
        mltrack server --app-name basic-auth --auth-default-permission NO_PERMISSIONS
    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 ADMIN_PASSWORD=admin-password-1234 \
        python3 test/python-client/auth_flow.py

The story: an admin creates two users; user A creates a personal access
token and, with MLFLOW_TRACKING_TOKEN, logs runs and registers a model;
user B cannot see A's experiment until A grants READ, then can read but not
write until A grants EDIT. Every step checks the answer; the script exits
non-zero at the first wrong one. A run of it is reported in
docs/compatibility.md.
"""

import os
import sys
import time

import requests

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client

URI = os.environ["MLFLOW_TRACKING_URI"]
ADMIN = (os.environ.get("ADMIN_USERNAME", "admin"), os.environ["ADMIN_PASSWORD"])
suffix = os.environ.get("FLOW_SUFFIX", str(int(time.time())))
A = (f"alice{suffix}", "alice-password-123")
B = (f"bob{suffix}", "bob-password-12345")
EXPERIMENT = f"private-food11-{suffix}"
MODEL = f"private-model-{suffix}"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok    {what}")


def as_basic(user):
    os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = user


def as_token(token):
    os.environ.pop("MLFLOW_TRACKING_USERNAME", None)
    os.environ.pop("MLFLOW_TRACKING_PASSWORD", None)
    os.environ["MLFLOW_TRACKING_TOKEN"] = token


def refused(fn, codes=("PERMISSION_DENIED",)):
    try:
        fn()
    except MlflowException as e:
        return e.error_code in codes
    return False


def main():
    print(f"tracking URI: {URI}  mlflow {mlflow.__version__}")

    as_basic(("nobody", "wrong-password"))
    check(refused(lambda: MlflowClient().search_experiments(), ("UNAUTHENTICATED",)), "bad credentials are refused")

    as_basic(ADMIN)
    auth = get_app_client("basic-auth", tracking_uri=URI)
    auth.create_user(*A)
    auth.create_user(*B)
    check(auth.get_user(A[0]).username == A[0], "admin created two users with the auth client")

    r = requests.post(f"{URI}/api/2.0/mltrack/tokens/create", json={"name": "training box"}, auth=A, timeout=10)
    check(r.status_code == 200 and r.json()["token"].startswith("mlt_"), "A created a personal access token")
    token = r.json()["token"]

    as_token(token)
    exp = mlflow.set_experiment(EXPERIMENT)
    exp_id = exp.experiment_id
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    with mlflow.start_run() as run:
        mlflow.log_params({"lr": 0.1})
        mlflow.log_metrics({"acc": 0.9}, step=1)
        mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model")
    run_id = run.info.run_id
    mv = mlflow.register_model(f"runs:/{run_id}/model", MODEL)
    check(mv.version == "1", "A logged a run and registered a model with MLFLOW_TRACKING_TOKEN")

    as_basic(B)
    client = MlflowClient()
    names = [e.name for e in client.search_experiments()]
    check(EXPERIMENT not in names, "B does not see A's experiment in search")
    check(refused(lambda: client.get_experiment(exp_id)), "B is refused A's experiment")
    check(refused(lambda: client.get_run(run_id)), "B is refused A's run")
    check(client.search_runs([exp_id]) == [], "B's search of A's experiment finds none of A's runs")
    check(refused(lambda: client.get_registered_model(MODEL)), "B is refused A's model")
    check(refused(lambda: mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model")), "B's artifact download is refused")
    proxy = f"{URI}/api/2.0/mlflow-artifacts/artifacts/{exp_id}/{run_id}/artifacts/model/MLmodel"
    check(requests.get(proxy, auth=B, timeout=10).status_code == 403, "B is refused the artifact proxy (403)")

    as_token(token)
    get_app_client("basic-auth", tracking_uri=URI).create_experiment_permission(exp_id, B[0], "READ")
    print("      A granted READ to B")

    as_basic(B)
    client = MlflowClient()
    check(client.get_experiment(exp_id).name == EXPERIMENT, "B now reads A's experiment")
    check(EXPERIMENT in [e.name for e in client.search_experiments()], "B now finds it in search")
    check(client.get_run(run_id).data.params["lr"] == "0.1", "B reads A's run")
    check(refused(lambda: client.log_metric(run_id, "b_metric", 1.0)), "B cannot write to A's run with READ")
    check(refused(lambda: client.create_run(exp_id)), "B cannot create a run in A's experiment with READ")

    as_token(token)
    get_app_client("basic-auth", tracking_uri=URI).update_experiment_permission(exp_id, B[0], "EDIT")
    print("      A raised B to EDIT")

    as_basic(B)
    client = MlflowClient()
    client.log_metric(run_id, "b_metric", 2.0)
    check(client.get_run(run_id).data.metrics["b_metric"] == 2.0, "B writes to A's run with EDIT")
    check(refused(lambda: client.delete_experiment(exp_id)), "B still cannot delete A's experiment (needs MANAGE)")

    r = requests.delete(f"{URI}/api/2.0/mltrack/tokens/revoke", json={"id": requests.get(f"{URI}/api/2.0/mltrack/tokens/list", auth=A, timeout=10).json()["tokens"][0]["id"]}, auth=A, timeout=10)
    check(r.status_code == 200, "A revoked the token")
    as_token(token)
    check(refused(lambda: MlflowClient().get_run(run_id), ("UNAUTHENTICATED",)), "the revoked token is refused")
    print("all steps passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL  {e}")
        sys.exit(1)
