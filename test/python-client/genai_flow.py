"""The GenAI flow with the official mlflow client: evaluation datasets, scorers, prompts.

Run it by hand against any tracking server where the `mlflow` package (3.x)
is installed:

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python3 test/python-client/genai_flow.py

As a new user of `mlflow.genai` would: an evaluation dataset built from
records and from the traces of a small traced app (`search_traces`), merged
twice (the second merge updates a record's expectations), read with
`to_df()`, searched, tagged, attached to a second experiment and deleted; a
custom scorer registered in two versions, listed, read by version and
deleted; a text and a chat prompt registered, given a second version and an
alias, loaded by alias and by version, formatted, tagged and searched, while
`search_registered_models` keeps listing only models. Every step checks
what the server answered and the script exits non-zero if any step failed.
Written against MLflow's own server (3.6); a run of it is reported in
docs/compatibility.md.
"""

import os
import time

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from flowsteps import check, run_steps, step


state = {}
suffix = os.environ.get("FLOW_SUFFIX", str(int(time.time())))
EXPERIMENT = f"qa-bot-genai-{suffix}"
SECOND_EXPERIMENT = f"qa-bot-genai-2-{suffix}"
DATASET = f"qa-golden-{suffix}"
TRACE_DATASET = f"qa-from-traces-{suffix}"
PROMPT = f"qa-answer-{suffix}"
CHAT_PROMPT = f"qa-chat-{suffix}"
MODEL = f"qa-model-{suffix}"

FACTS = {"capital": "Paris", "river": "the Seine", "mountain": "Mont Blanc"}


@mlflow.trace
def answer(question):
    for key, fact in FACTS.items():
        if key in question:
            return {"answer": fact}
    return {"answer": "I don't know."}


def records_by_question(ds):
    """The dataset's records as to_df() rows, by question."""
    return {row["inputs"]["question"]: row for row in ds.to_df().to_dict("records")}


@step("set_experiment and a few traces, two with expectations")
def traces():
    exp = mlflow.set_experiment(EXPERIMENT)
    state["experiment_id"] = exp.experiment_id
    state["traces"] = []
    for q in ["What is the capital of France?", "Which river flows through Paris?", "What is the tallest mountain in France?"]:
        answer(q)
        state["traces"].append(mlflow.get_last_active_trace_id())
    mlflow.flush_trace_async_logging()  # traces are logged in the background: wait for them
    mlflow.log_expectation(trace_id=state["traces"][0], name="expected_answer", value="Paris")
    mlflow.log_expectation(trace_id=state["traces"][1], name="expected_answer", value="The Seine")
    found = mlflow.search_traces(locations=[exp.experiment_id], return_type="list")
    check(len(found) == 3, f"{len(found)} traces")


@step("create_dataset with tags, merge_records twice (the second updates), to_df")
def dataset():
    from mlflow.genai.datasets import create_dataset, get_dataset

    ds = create_dataset(name=DATASET, experiment_id=state["experiment_id"], tags={"team": "qa", "stage": "draft"})
    state["dataset_id"] = ds.dataset_id
    check(ds.dataset_id.startswith("d-"), f"dataset id {ds.dataset_id}")
    check(ds.name == DATASET and ds.tags.get("team") == "qa" and ds.tags.get("stage") == "draft", f"dataset {ds.name} {ds.tags}")
    check(ds.experiment_ids == [state["experiment_id"]], f"experiments {ds.experiment_ids}")
    check(ds.created_time > 0, "created time")
    ds.merge_records(
        [
            {"inputs": {"question": "What is the capital of France?"}, "expectations": {"answer": "Paris"}},
            {"inputs": {"question": "Which river flows through Paris?"}, "expectations": {"answer": "The Seine"}, "tags": {"topic": "geo"}},
            {"inputs": {"question": "Who wrote Les Miserables?"}},
        ]
    )
    check(len(ds.to_df()) == 3, f"{len(ds.to_df())} records after the first merge")
    ds.merge_records(
        [
            {"inputs": {"question": "What is the capital of France?"}, "expectations": {"answer": "Paris, France", "confidence": "high"}},
            {"inputs": {"question": "What is the tallest mountain in France?"}, "expectations": {"answer": "Mont Blanc"}},
        ]
    )
    again = get_dataset(dataset_id=ds.dataset_id)
    recs = records_by_question(again)
    check(len(recs) == 4, f"{len(recs)} records after the second merge: {sorted(recs)}")
    capital = recs["What is the capital of France?"]
    check(capital["expectations"] == {"answer": "Paris, France", "confidence": "high"}, f"merged expectations {capital['expectations']}")
    check(recs["Which river flows through Paris?"]["tags"].get("topic") == "geo", "record tags kept")
    check(recs["Who wrote Les Miserables?"]["expectations"] in (None, {}), "a record without expectations")
    check(len({r["dataset_record_id"] for r in recs.values()}) == 4, "record ids")
    check(str(capital["source_type"]) in ("HUMAN", "DatasetRecordSourceType.HUMAN"), f"source type {capital['source_type']}")
    check(again.digest and again.last_update_time >= again.created_time, "digest and times")
    df = again.to_df()
    check(len(df) == 4, f"to_df rows {len(df)}")
    for col in ["inputs", "expectations"]:
        check(col in df.columns, f"{col} in {list(df.columns)}")
    qs = sorted(row["question"] for row in df["inputs"])
    check(qs == sorted(recs), f"to_df inputs {qs}")


@step("a dataset from search_traces keeps the source traces and their expectations")
def from_traces():
    from mlflow.genai.datasets import create_dataset, get_dataset

    df = mlflow.search_traces(locations=[state["experiment_id"]])
    check(len(df) == 3, f"{len(df)} traces")
    ds = create_dataset(name=TRACE_DATASET, experiment_id=state["experiment_id"])
    state["trace_dataset_id"] = ds.dataset_id
    ds.merge_records(df)
    recs = records_by_question(get_dataset(dataset_id=ds.dataset_id))
    check(len(recs) == 3, f"{len(recs)} records from traces")
    for (q, fact), tid in zip([("What is the capital of France?", "Paris"), ("Which river flows through Paris?", "the Seine"), ("What is the tallest mountain in France?", "Mont Blanc")], state["traces"]):
        r = recs[q]
        check(str(r["source_type"]) in ("TRACE", "DatasetRecordSourceType.TRACE"), f"source type {r['source_type']}")
        check(r["source_id"] == tid, f"source trace {r['source_id']} != {tid}")
        check(r["outputs"] == {"answer": fact}, f"outputs {r['outputs']}")
    check(recs["What is the capital of France?"]["expectations"] == {"expected_answer": "Paris"}, f"expectations from the trace {recs['What is the capital of France?']['expectations']}")
    check(recs["What is the tallest mountain in France?"]["expectations"] in (None, {}), "no expectation logged, none copied")
    ds.merge_records(mlflow.search_traces(locations=[state["experiment_id"]], return_type="list")[:1])
    check(len(get_dataset(dataset_id=ds.dataset_id).to_df()) == 3, "merging the same trace again adds no record")


@step("search_datasets by experiment, name, tags, with ordering and max_results")
def search():
    from mlflow.genai.datasets import search_datasets

    found = search_datasets(experiment_ids=[state["experiment_id"]])
    check(sorted(d.name for d in found) == sorted([DATASET, TRACE_DATASET]), f"by experiment {[d.name for d in found]}")
    found = search_datasets(experiment_ids=[state["experiment_id"]], filter_string=f"name = '{DATASET}'")
    check([d.dataset_id for d in found] == [state["dataset_id"]], f"by name {[d.name for d in found]}")
    found = search_datasets(experiment_ids=[state["experiment_id"]], filter_string="name LIKE 'qa-from-%'")
    check([d.dataset_id for d in found] == [state["trace_dataset_id"]], f"name LIKE {[d.name for d in found]}")
    found = search_datasets(experiment_ids=[state["experiment_id"]], filter_string="tags.team = 'qa'")
    check([d.dataset_id for d in found] == [state["dataset_id"]], f"by tag {[d.name for d in found]}")
    found = search_datasets(experiment_ids=[state["experiment_id"]], order_by=["name DESC"])
    check([d.name for d in found] == sorted([DATASET, TRACE_DATASET], reverse=True), f"name DESC {[d.name for d in found]}")
    found = search_datasets(experiment_ids=[state["experiment_id"]], order_by=["created_time ASC"], max_results=1)
    check([d.dataset_id for d in found] == [state["dataset_id"]], f"max_results=1 {[d.name for d in found]}")


@step("set_dataset_tags, delete_dataset_tag")
def tags():
    from mlflow.genai.datasets import delete_dataset_tag, get_dataset, set_dataset_tags

    set_dataset_tags(dataset_id=state["dataset_id"], tags={"stage": "final", "owner": "alice"})
    ds = get_dataset(dataset_id=state["dataset_id"])
    check(ds.tags.get("stage") == "final" and ds.tags.get("owner") == "alice" and ds.tags.get("team") == "qa", f"tags {ds.tags}")
    delete_dataset_tag(dataset_id=state["dataset_id"], key="owner")
    ds = get_dataset(dataset_id=state["dataset_id"])
    check("owner" not in ds.tags and ds.tags.get("stage") == "final", f"tags after delete {ds.tags}")


@step("attach the dataset to a second experiment, then detach it")
def experiments():
    from mlflow.genai.datasets import add_dataset_to_experiments, get_dataset, remove_dataset_from_experiments, search_datasets

    second = MlflowClient().create_experiment(SECOND_EXPERIMENT)
    ds = add_dataset_to_experiments(dataset_id=state["dataset_id"], experiment_ids=[second])
    check(sorted(ds.experiment_ids) == sorted([state["experiment_id"], second]), f"experiments {ds.experiment_ids}")
    check([d.dataset_id for d in search_datasets(experiment_ids=[second])] == [state["dataset_id"]], "found from the second experiment")
    ds = remove_dataset_from_experiments(dataset_id=state["dataset_id"], experiment_ids=[second])
    check(ds.experiment_ids == [state["experiment_id"]], f"after removal {ds.experiment_ids}")
    check(get_dataset(dataset_id=state["dataset_id"]).experiment_ids == [state["experiment_id"]], "removal read back")
    check(search_datasets(experiment_ids=[second]) == [], "not found from the second experiment any more")


@step("delete_dataset")
def delete_dataset():
    from mlflow.genai.datasets import delete_dataset, get_dataset, search_datasets

    delete_dataset(dataset_id=state["trace_dataset_id"])
    try:
        get_dataset(dataset_id=state["trace_dataset_id"])
        check(False, "deleted dataset found")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", f"{e.error_code}: {e.message}")
    check([d.dataset_id for d in search_datasets(experiment_ids=[state["experiment_id"]])] == [state["dataset_id"]], "one left")


@step("register a scorer (two versions) and a judge, list, get a version, delete")
def scorers():
    from mlflow.genai import make_judge
    from mlflow.genai.scorers import Guidelines, delete_scorer, get_scorer, list_scorers
    from mlflow.genai.scorers.registry import list_scorer_versions  # not re-exported by mlflow.genai.scorers

    exp = state["experiment_id"]
    # MLflow refuses to register @scorer functions outside Databricks (their code would run on
    # load); guidelines and make_judge judges are data, so they register anywhere.
    r1 = Guidelines(name="concise", guidelines=["The answer must be one sentence."]).register(experiment_id=exp)
    check(r1.name == "concise", f"registered {r1.name}")
    Guidelines(name="concise", guidelines=["The answer must be one sentence.", "No lists."]).register(experiment_id=exp)
    judge = make_judge(name="grounded", instructions="Is {{ outputs }} supported by {{ inputs }}? Answer yes or no.", model="openai:/gpt-4o-mini")
    judge.register(experiment_id=exp)
    listed = sorted(s.name for s in list_scorers(experiment_id=exp))
    check(listed == ["concise", "grounded"], f"list_scorers {listed}")
    versions = list_scorer_versions(name="concise", experiment_id=exp)
    check(sorted(v for _, v in versions) == [1, 2], f"versions {[v for _, v in versions]}")
    v1 = get_scorer(name="concise", experiment_id=exp, version=1)
    latest = get_scorer(name="concise", experiment_id=exp)
    check(v1.guidelines == ["The answer must be one sentence."], f"version 1 {v1.guidelines}")
    check(latest.guidelines == ["The answer must be one sentence.", "No lists."], f"latest {latest.guidelines}")
    g = get_scorer(name="grounded", experiment_id=exp)
    check("supported by" in g.instructions and g.model == "openai:/gpt-4o-mini", f"judge read back {g.instructions!r} {g.model}")
    delete_scorer(name="concise", experiment_id=exp, version=1)
    versions = list_scorer_versions(name="concise", experiment_id=exp)
    check([v for _, v in versions] == [2], f"after deleting version 1 {[v for _, v in versions]}")
    delete_scorer(name="concise", experiment_id=exp, version="all")
    check([s.name for s in list_scorers(experiment_id=exp)] == ["grounded"], "all versions deleted")
    try:
        get_scorer(name="concise", experiment_id=exp)
        check(False, "deleted scorer found")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", f"{e.error_code}: {e.message}")


@step("register_prompt: a text prompt in two versions and a chat prompt")
def prompts():
    p1 = mlflow.genai.register_prompt(name=PROMPT, template="Answer {{question}} in a {{style}} way.", commit_message="first", tags={"task": "qa"})
    check(p1.name == PROMPT and p1.version == 1 and p1.is_text_prompt, f"v1 {p1}")
    check(p1.variables == {"question", "style"}, f"variables {p1.variables}")
    p2 = mlflow.genai.register_prompt(name=PROMPT, template="Answer {{question}}. Be {{style}} and brief.", commit_message="shorter")
    check(p2.version == 2 and p2.commit_message == "shorter", f"v2 {p2}")
    chat = mlflow.genai.register_prompt(
        name=CHAT_PROMPT,
        template=[{"role": "system", "content": "You are a {{persona}}."}, {"role": "user", "content": "{{question}}"}],
        commit_message="chat",
    )
    check(chat.version == 1 and not chat.is_text_prompt, f"chat {chat}")


@step("aliases, load_prompt by alias and by version, format")
def load():
    mlflow.genai.set_prompt_alias(PROMPT, alias="production", version=1)
    prod = mlflow.genai.load_prompt(f"prompts:/{PROMPT}@production")
    check(prod.version == 1 and prod.template == "Answer {{question}} in a {{style}} way.", f"by alias {prod.version} {prod.template}")
    check("production" in (prod.aliases or []), f"aliases {prod.aliases}")
    v2 = mlflow.genai.load_prompt(f"prompts:/{PROMPT}/2")
    check(v2.version == 2 and v2.template == "Answer {{question}}. Be {{style}} and brief.", f"by version {v2.template}")
    same = mlflow.genai.load_prompt(PROMPT, version=1)
    check(same.template == prod.template and same.commit_message == "first", "by name and version")
    check(mlflow.genai.load_prompt(f"prompts:/{PROMPT}@latest").version == 2, "@latest is version 2")
    check(prod.format(question="What is the capital of France?", style="friendly") == "Answer What is the capital of France? in a friendly way.", "format")
    try:
        prod.format(question="x")
        check(False, "a missing variable was accepted")
    except MlflowException:
        pass
    chat = mlflow.genai.load_prompt(f"prompts:/{CHAT_PROMPT}/1")
    msgs = chat.format(persona="geographer", question="Where is Lyon?")
    check(msgs == [{"role": "system", "content": "You are a geographer."}, {"role": "user", "content": "Where is Lyon?"}], f"chat format {msgs}")
    mlflow.genai.set_prompt_alias(PROMPT, alias="production", version=2)
    check(mlflow.genai.load_prompt(f"prompts:/{PROMPT}@production").version == 2, "alias moved to version 2")
    mlflow.genai.delete_prompt_alias(PROMPT, alias="production")
    try:
        mlflow.genai.load_prompt(f"prompts:/{PROMPT}@production")
        check(False, "deleted alias still resolves")
    except MlflowException:
        pass
    check(mlflow.genai.load_prompt(f"prompts:/{PROMPT}/99", allow_missing=True) is None, "allow_missing for an unknown version")


@step("prompt tags, search_prompts, and search_registered_models lists only models")
def search_prompts():
    mlflow.genai.set_prompt_tag(PROMPT, "owner", "qa-team")
    tags = mlflow.genai.get_prompt_tags(PROMPT)
    tags = tags.tags if hasattr(tags, "tags") else tags
    check(tags.get("owner") == "qa-team", f"prompt tags {tags}")
    mlflow.genai.delete_prompt_tag(PROMPT, "owner")
    tags = mlflow.genai.get_prompt_tags(PROMPT)
    tags = tags.tags if hasattr(tags, "tags") else tags
    check("owner" not in tags, f"tags after delete {tags}")
    mlflow.genai.set_prompt_version_tag(PROMPT, 2, "reviewed", "yes")
    check(mlflow.genai.load_prompt(PROMPT, version=2).tags.get("reviewed") == "yes", "prompt version tag")

    found = mlflow.genai.search_prompts(filter_string=f"name = '{PROMPT}'")
    check([p.name for p in found] == [PROMPT], f"search_prompts by name {[p.name for p in found]}")
    found = mlflow.genai.search_prompts(filter_string=f"name LIKE 'qa-%-{suffix}'")
    check(sorted(p.name for p in found) == sorted([PROMPT, CHAT_PROMPT]), f"search_prompts LIKE {[p.name for p in found]}")

    client = MlflowClient()
    client.create_registered_model(MODEL)
    models = [m.name for m in client.search_registered_models(filter_string=f"name LIKE '%-{suffix}'")]
    check(models == [MODEL], f"search_registered_models lists only models: {models}")
    everything = [m.name for m in client.search_registered_models()]
    check(MODEL in everything and PROMPT not in everything and CHAT_PROMPT not in everything, "no prompts among all models")
    check(MODEL not in [p.name for p in mlflow.genai.search_prompts()], "no models among prompts")


if __name__ == "__main__":
    run_steps()
