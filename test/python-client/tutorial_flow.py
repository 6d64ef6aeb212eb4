"""The tutorial flow with the official mlflow client, as a new user runs it.

Run it by hand against any tracking server where the `mlflow` package (3.x)
is installed, with scikit-learn, psutil (for system metrics) and,
optionally, PyTorch:

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python3 test/python-client/tutorial_flow.py

It trains nothing heavy: a small scikit-learn model and, when torch imports,
a tiny PyTorch module. Every step checks what the server answered and the
script exits non-zero at the first wrong answer. A run of it is reported in
docs/compatibility.md.
"""

import os
import tempfile
import time

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from flowsteps import check, run_steps, step


state = {}
suffix = os.environ.get("FLOW_SUFFIX", str(int(time.time())))
EXPERIMENT = f"food11-classifier-{suffix}"
MODEL = f"food11-staging-{suffix}"


@step("set_experiment and three runs with params, metrics by step, text, files and a model")
def train():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    mlflow.set_system_metrics_sampling_interval(1)
    mlflow.set_system_metrics_samples_before_logging(1)
    exp = mlflow.set_experiment(EXPERIMENT)
    check(exp.artifact_location, "experiment has an artifact location")
    state["experiment_id"] = exp.experiment_id
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    runs = []
    for i, lr in enumerate([0.1, 0.01, 0.001]):
        with mlflow.start_run(run_name=f"run-{i}", log_system_metrics=True) as run:
            mlflow.set_tag("mlflow.note.content", f"learning rate {lr}")
            mlflow.log_params({"lr": lr, "epochs": 3, "model": "logreg", "C": 1.0 / (i + 1)})
            for epoch in range(3):
                mlflow.log_metrics({"train_loss": 1.0 / (epoch + 1 + i), "val_accuracy": 0.5 + 0.1 * epoch}, step=epoch)
            clf = LogisticRegression(C=1.0 / (i + 1)).fit(X, y)
            acc = float(clf.score(X, y)) - 0.01 * i
            mlflow.log_metric("test_accuracy", acc)
            mlflow.log_text("confusion matrix\n1 0\n0 1\n", "reports/confusion.txt")
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "config.yaml")
                with open(path, "w") as f:
                    f.write(f"lr: {lr}\n")
                mlflow.log_artifact(path)
                tree = os.path.join(d, "tree")
                os.makedirs(os.path.join(tree, "a", "b"))
                for rel in ["top.txt", "a/mid.txt", "a/b/deep.bin"]:
                    with open(os.path.join(tree, rel), "wb") as f:
                        f.write(os.urandom(1024) if rel.endswith(".bin") else rel.encode())
                mlflow.log_artifacts(tree, artifact_path="tree")
            info = mlflow.sklearn.log_model(clf, name="model", input_example=X[:2])
            check(info.model_id, "log_model returned a logged model id")
            runs.append((run.info.run_id, acc, info.model_id))
            time.sleep(2.5)  # the system metrics monitor samples once a second
    state["runs"] = runs


@step("system metrics were logged as system/...")
def system_metrics():
    client = MlflowClient()
    run = client.get_run(state["runs"][0][0])
    names = [k for k in run.data.metrics if k.startswith("system/")]
    check(names, f"system metrics logged, got {sorted(run.data.metrics)}")


@step("search_runs ordered by metrics.test_accuracy DESC")
def search():
    client = MlflowClient()
    found = client.search_runs([state["experiment_id"]], order_by=["metrics.test_accuracy DESC"])
    got = [r.info.run_id for r in found]
    want = [r for r, _, _ in sorted(state["runs"], key=lambda t: -t[1])]
    check(got == want, f"order {got} != {want}")
    best = found[0]
    check(best.data.params["model"] == "logreg", "params read back")
    check(best.data.tags["mlflow.note.content"].startswith("learning rate"), "description read back")
    hist = client.get_metric_history(best.info.run_id, "train_loss")
    check([m.step for m in hist] == [0, 1, 2], f"history steps {[m.step for m in hist]}")
    df = mlflow.search_runs(experiment_names=[EXPERIMENT], filter_string="params.lr = '0.1'")
    check(len(df) == 1, f"filtered search found {len(df)}")
    state["best"] = best.info.run_id


@step("list_artifacts and download_artifacts of a run")
def artifacts():
    client = MlflowClient()
    run_id = state["best"]
    top = sorted(a.path for a in client.list_artifacts(run_id))
    for want in ["config.yaml", "reports", "tree"]:
        check(want in top, f"{want} in {top}")
    deep = [a.path for a in client.list_artifacts(run_id, "tree/a/b")]
    check(deep == ["tree/a/b/deep.bin"], f"deep listing {deep}")
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="tree", dst_path=d)
        for rel in ["top.txt", "a/mid.txt", "a/b/deep.bin"]:
            check(os.path.exists(os.path.join(local, rel)), f"downloaded {rel}")
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/reports/confusion.txt")
        check(text.startswith("confusion matrix"), "load_text")


@step("the logged model loads back")
def load_model():
    import numpy as np

    model = mlflow.pyfunc.load_model(f"runs:/{state['best']}/model")
    pred = model.predict(np.zeros((1, 4)))
    check(len(pred) == 1, "prediction")
    model_id = [m for r, _, m in state["runs"] if r == state["best"]][0]
    lm = mlflow.get_logged_model(model_id)
    check(lm.source_run_id == state["best"], "logged model links to its run")
    found = mlflow.search_logged_models(experiment_ids=[state["experiment_id"]], output_format="list")
    check(len(found) == 3, f"{len(found)} logged models")


@step("pytorch log_model, when torch is installed")
def pytorch():
    try:
        import torch
    except ImportError:
        print("  (torch not installed: skipped)")
        return
    net = torch.nn.Sequential(torch.nn.Linear(4, 2))
    with mlflow.start_run(experiment_id=state["experiment_id"], run_name="torch"):
        info = mlflow.pytorch.log_model(net, name="model")
    loaded = mlflow.pytorch.load_model(info.model_uri)
    out = loaded(torch.zeros(1, 4))
    check(tuple(out.shape) == (1, 2), "torch model output")


@step("register_model, search_model_versions, download the latest version's source")
def register():
    client = MlflowClient()
    mv1 = mlflow.register_model(f"runs:/{state['best']}/model", MODEL)
    check(mv1.version == "1", f"first version {mv1.version}")
    second = [r for r, _, _ in state["runs"] if r != state["best"]][0]
    mv2 = mlflow.register_model(f"runs:/{second}/model", MODEL)
    check(mv2.version == "2", f"second version {mv2.version}")
    versions = client.search_model_versions(f"name='{MODEL}'")
    check(sorted(v.version for v in versions) == ["1", "2"], "both versions found")
    latest = max(versions, key=lambda v: int(v.version))
    check(latest.run_id == second, "run link")
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(latest.source, dst_path=d)
        check(os.path.exists(os.path.join(local, "MLmodel")), f"MLmodel in {os.listdir(local)}")
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(f"models:/{MODEL}/1", dst_path=d)
        check(os.path.exists(os.path.join(local, "MLmodel")), "models:/name/1 downloads")
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/2")
    check(model is not None, "load by version")


@step("aliases and tags, set and read back")
def aliases():
    client = MlflowClient()
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.set_registered_model_tag(MODEL, "team", "vision")
    client.set_model_version_tag(MODEL, "1", "validated", "yes")
    mv = client.get_model_version_by_alias(MODEL, "champion")
    check(mv.version == "1", "alias resolves")
    check(mv.tags.get("validated") == "yes", "version tag")
    rm = client.get_registered_model(MODEL)
    check(rm.aliases.get("champion") == "1" and rm.tags.get("team") == "vision", "model alias and tag")
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(f"models:/{MODEL}@champion", dst_path=d)
        check(os.path.exists(os.path.join(local, "MLmodel")), "models:/name@alias downloads")
    client.delete_registered_model_alias(MODEL, "champion")
    try:
        client.get_model_version_by_alias(MODEL, "champion")
        check(False, "deleted alias still resolves")
    except MlflowException as e:
        # MLflow's answer (api_cases registered-models.alias.get-unknown): 400, "... alias champion not found."
        check(e.error_code == "INVALID_PARAMETER_VALUE" and "alias champion not found" in e.message, f"{e.error_code}: {e.message}")


@step("stage transitions archive older versions when asked")
def stages():
    client = MlflowClient()
    client.transition_model_version_stage(MODEL, "1", "Production")
    client.transition_model_version_stage(MODEL, "2", "Production", archive_existing_versions=True)
    v1 = client.get_model_version(MODEL, "1")
    v2 = client.get_model_version(MODEL, "2")
    check(v1.current_stage == "Archived", f"v1 {v1.current_stage}")
    check(v2.current_stage == "Production", f"v2 {v2.current_stage}")
    latest = client.get_latest_versions(MODEL, stages=["Production"])
    check([v.version for v in latest] == ["2"], "latest production")


@step("errors come back as MlflowException with MLflow's codes")
def errors():
    client = MlflowClient()
    try:
        client.get_run("0" * 32)
        check(False, "missing run found")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", e.error_code)
    try:
        mlflow.log_metric("x", 1.0, run_id="nope")
        check(False, "bad run id accepted")
    except MlflowException as e:
        # As MLflow answers a malformed run id (api_cases runs.get.malformed-run-id).
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST" and "Run with id=nope not found" in e.message, f"{e.error_code}: {e.message}")


@step("a multipart upload when the artifact is large (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD)")
def multipart():
    size = int(os.environ.get("FLOW_LARGE_BYTES", str(12 * 1024 * 1024)))
    with mlflow.start_run(experiment_id=state["experiment_id"], run_name="large") as run, tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "weights.bin")
        with open(path, "wb") as f:
            for _ in range(size // (1 << 20)):
                f.write(os.urandom(1 << 20))
        mlflow.log_artifact(path, "checkpoints")
        out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="checkpoints/weights.bin", dst_path=os.path.join(d, "out"))
        with open(path, "rb") as a, open(out, "rb") as b:
            check(a.read() == b.read(), "large artifact round-trips")


if __name__ == "__main__":
    run_steps()
