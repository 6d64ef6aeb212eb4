"""The tracing flow with the official mlflow client, as a new user writes it.

Run it by hand against any tracking server where the `mlflow` package (3.x)
is installed:

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python3 test/python-client/tracing_flow.py

A small question-answering "app" is traced: a `@mlflow.trace`d function that
calls another traced function and opens spans of its own with
`mlflow.start_span`, one that fails inside a span, and one called inside a
run. Then the traces are read back (`get_trace`, span inputs, outputs,
attributes and events), tagged, searched with filters, ordering and pages,
given feedback and expectations (logged, updated, overridden, deleted), and
deleted by id and by age. Every step checks what the server answered and the
script exits non-zero if any step failed. Written against MLflow's own
server (3.6); a run of it is reported in docs/compatibility.md.
"""

import os
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import AssessmentSource, AssessmentSourceType, Expectation, Feedback, SpanEvent, SpanStatusCode, SpanType
from mlflow.exceptions import MlflowException

from flowsteps import check, run_steps, step


def flush():
    # The client logs traces in the background (MLFLOW_ENABLE_ASYNC_TRACE_LOGGING, on by
    # default; newer clients batch spans too): wait for the writes before reading.
    mlflow.flush_trace_async_logging()


state = {}
suffix = os.environ.get("FLOW_SUFFIX", str(int(time.time())))
EXPERIMENT = f"qa-bot-traces-{suffix}"
CLEANUP_EXPERIMENT = f"qa-bot-cleanup-{suffix}"

DOCS = {
    "capital": ["Paris is the capital of France.", "Lyon is a city in France."],
    "river": ["The Seine flows through Paris."],
}


@mlflow.trace(span_type=SpanType.RETRIEVER)
def retrieve(query):
    return [d for k, docs in DOCS.items() if k in query for d in docs]


@mlflow.trace(name="answer", span_type=SpanType.CHAIN, attributes={"app.version": "1.2"})
def answer(question, user="alice"):
    docs = retrieve(question.lower())
    with mlflow.start_span(name="rerank", span_type=SpanType.RERANKER) as span:
        span.set_inputs({"docs": docs, "top_k": 1})
        best = sorted(docs, key=len, reverse=True)[:1]
        span.set_outputs({"docs": best})
        span.set_attribute("rerank.model", "length-v1")
        span.add_event(SpanEvent("reranked", attributes={"kept": len(best), "dropped": len(docs) - len(best)}))
    with mlflow.start_span(name="generate", span_type=SpanType.LLM) as span:
        span.set_inputs({"prompt": f"Answer from {best}: {question}"})
        text = best[0] if best else "I don't know."
        span.set_outputs({"text": text})
        span.set_attributes({"llm.tokens": 12, "llm.model": "tiny-echo"})
    mlflow.update_current_trace(tags={"app": "qa-bot", "user": user})
    return {"answer": text, "sources": len(docs)}


@mlflow.trace(name="answer_badly", span_type=SpanType.CHAIN)
def answer_badly(question):
    with mlflow.start_span(name="parse") as span:
        span.set_inputs({"question": question})
        raise ValueError(f"cannot parse {question!r}")


@step("set_experiment and a traced function with nested spans")
def traced():
    exp = mlflow.set_experiment(EXPERIMENT)
    state["experiment_id"] = exp.experiment_id
    state["ok"] = []
    out = answer("What is the capital of France?")
    check(out == {"answer": "Paris is the capital of France.", "sources": 2}, f"function still returns its value: {out}")
    state["first"] = mlflow.get_last_active_trace_id()
    state["ok"].append(state["first"])
    time.sleep(0.05)
    state["t_mid"] = int(time.time() * 1000)
    time.sleep(0.05)
    for q, user in [("Which river flows through Paris?", "bob"), ("What is the capital of Spain?", "bob")]:
        answer(q, user=user)
        state["ok"].append(mlflow.get_last_active_trace_id())
    flush()
    check(len(set(state["ok"])) == 3 and all(t and t.startswith("tr-") for t in state["ok"]), f"trace ids {state['ok']}")
    # The client swallows export errors (tracing must not break the app): ask the server.
    found = sorted(t.info.trace_id for t in mlflow.search_traces(locations=[exp.experiment_id], return_type="list"))
    check(found == sorted(state["ok"]), f"the server has the three traces: {found}")


@step("get_trace: the span tree, inputs, outputs, attributes and events")
def get_trace():
    trace = mlflow.get_trace(state["first"])
    check(trace is not None, "trace found")
    info = trace.info
    check(info.trace_id == state["first"], "trace id")
    check(info.experiment_id == state["experiment_id"], f"experiment {info.experiment_id}")
    check(str(info.state) in ("OK", "TraceState.OK"), f"state {info.state}")
    check(info.request_time > 0 and info.execution_duration is not None and info.execution_duration >= 0, "timing")
    check(info.tags.get("app") == "qa-bot" and info.tags.get("user") == "alice", f"tags {info.tags}")
    check(info.tags.get("mlflow.traceName") == "answer", "trace name tag")
    spans = {s.name: s for s in trace.data.spans}
    check(sorted(spans) == ["answer", "generate", "rerank", "retrieve"], f"spans {sorted(spans)}")
    root = spans["answer"]
    check(root.parent_id is None, "root has no parent")
    for child in ["retrieve", "rerank", "generate"]:
        check(spans[child].parent_id == root.span_id, f"{child} is a child of answer")
        check(spans[child].trace_id == state["first"], f"{child} has the trace id")
    check(root.span_type == SpanType.CHAIN and spans["retrieve"].span_type == SpanType.RETRIEVER, "span types")
    check(root.inputs == {"question": "What is the capital of France?", "user": "alice"}, f"root inputs {root.inputs}")
    check(root.outputs == {"answer": "Paris is the capital of France.", "sources": 2}, f"root outputs {root.outputs}")
    check(root.get_attribute("app.version") == "1.2", "decorator attribute")
    check(spans["retrieve"].inputs == {"query": "what is the capital of france?"}, f"retrieve inputs {spans['retrieve'].inputs}")
    check(len(spans["retrieve"].outputs) == 2, "retrieve outputs")
    rerank = spans["rerank"]
    check(rerank.inputs["top_k"] == 1 and rerank.outputs == {"docs": ["Paris is the capital of France."]}, f"rerank io {rerank.inputs} {rerank.outputs}")
    check(rerank.get_attribute("rerank.model") == "length-v1", f"attribute {rerank.attributes}")
    check([e.name for e in rerank.events] == ["reranked"], f"events {rerank.events}")
    check(rerank.events[0].attributes == {"kept": 1, "dropped": 1}, f"event attributes {rerank.events[0].attributes}")
    gen = spans["generate"]
    check(gen.get_attribute("llm.tokens") == 12 and gen.get_attribute("llm.model") == "tiny-echo", "set_attributes")
    for s in trace.data.spans:
        check(s.status.status_code == SpanStatusCode.OK, f"{s.name} status {s.status}")
        check(s.start_time_ns <= s.end_time_ns, f"{s.name} times")
    check(root.start_time_ns <= rerank.start_time_ns and rerank.end_time_ns <= root.end_time_ns, "children inside the root")
    check("capital of France" in trace.data.request and "Paris" in trace.data.response, "request and response previews")


@step("an exception inside a span: an error span and an ERROR trace")
def error_span():
    try:
        answer_badly("???")
        check(False, "the exception propagates")
    except ValueError:
        pass
    tid = mlflow.get_last_active_trace_id()
    state["error"] = tid
    flush()
    trace = mlflow.get_trace(tid)
    check(str(trace.info.state) in ("ERROR", "TraceState.ERROR"), f"state {trace.info.state}")
    spans = {s.name: s for s in trace.data.spans}
    check(sorted(spans) == ["answer_badly", "parse"], f"spans {sorted(spans)}")
    for name in ["answer_badly", "parse"]:
        span = spans[name]
        check(span.status.status_code == SpanStatusCode.ERROR, f"{name} status {span.status}")
        exc = [e for e in span.events if e.name == "exception"]
        check(exc, f"{name} has an exception event: {span.events}")
        check(exc[0].attributes.get("exception.type") == "ValueError", f"exception type {exc[0].attributes}")
        check("cannot parse" in exc[0].attributes.get("exception.message", ""), f"exception message {exc[0].attributes}")
    check(spans["parse"].inputs == {"question": "???"}, "inputs kept on the failed span")


@step("a trace inside a run is linked to the run (mlflow.sourceRun)")
def in_run():
    with mlflow.start_run(run_name="eval") as run:
        answer("Capital of France, again?", user="carol")
        tid = mlflow.get_last_active_trace_id()
    flush()
    state["run_id"] = run.info.run_id
    state["in_run"] = tid
    state["ok"].append(tid)
    trace = mlflow.get_trace(tid)
    check(trace.info.trace_metadata.get("mlflow.sourceRun") == run.info.run_id, f"metadata {trace.info.trace_metadata}")
    found = mlflow.search_traces(run_id=run.info.run_id, return_type="list")
    check([t.info.trace_id for t in found] == [tid], f"search by run found {[t.info.trace_id for t in found]}")
    found = mlflow.search_traces(filter_string=f"run_id = '{run.info.run_id}'", return_type="list")
    check([t.info.trace_id for t in found] == [tid], "filter run_id = ...")


@step("trace tags: set_trace_tag, delete_trace_tag")
def tags():
    client = MlflowClient()
    tid = state["first"]
    client.set_trace_tag(tid, "reviewed", "yes")
    client.set_trace_tag(tid, "user", "alice2")
    tags = mlflow.get_trace(tid).info.tags
    check(tags.get("reviewed") == "yes" and tags.get("user") == "alice2", f"tags {tags}")
    client.delete_trace_tag(tid, "reviewed")
    tags = mlflow.get_trace(tid).info.tags
    check("reviewed" not in tags and tags.get("app") == "qa-bot", f"tags after delete {tags}")
    mlflow.set_trace_tag(tid, "priority", "high")
    check(mlflow.get_trace(tid).info.tags.get("priority") == "high", "fluent set_trace_tag")
    try:
        client.delete_trace_tag(tid, "never-set")
        check(False, "deleting a missing tag succeeded")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", f"{e.error_code}: {e.message}")


@step("search_traces with filters on status, tags, timestamp, name, spans")
def search():
    exp = [state["experiment_id"]]

    def ids(filter_string, **kw):
        found = mlflow.search_traces(locations=exp, filter_string=filter_string, return_type="list", **kw)
        return sorted(t.info.trace_id for t in found)

    everything = sorted(state["ok"] + [state["error"]])
    check(ids(None) == everything, f"all traces: {ids(None)}")
    check(ids("trace.status = 'ERROR'") == [state["error"]], "trace.status = 'ERROR'")
    check(ids("trace.status = 'OK'") == sorted(state["ok"]), "trace.status = 'OK'")
    check(ids("tag.user = 'bob'") == sorted(state["ok"][1:3]), "tag.user = 'bob'")
    check(ids("tags.app = 'qa-bot' AND tag.user != 'bob'") == sorted([state["first"], state["in_run"]]), "tag AND tag")
    check(ids("tag.user LIKE 'ali%'") == [state["first"]], "tag LIKE")
    check(ids(f"trace.timestamp_ms > {state['t_mid']}") == sorted(state["ok"][1:] + [state["error"]]), "trace.timestamp_ms >")
    check(ids(f"trace.timestamp_ms < {state['t_mid']}") == [state["first"]], "trace.timestamp_ms <")
    check(ids("trace.name = 'answer_badly'") == [state["error"]], "trace.name =")
    check(ids("trace.name = 'answer'") == sorted(state["ok"]), "trace.name = 'answer'")
    check(ids("trace.execution_time_ms >= 0") == everything, "trace.execution_time_ms")
    check(ids("span.name = 'parse'") == [state["error"]], "span.name =")
    check(ids("span.type = 'RERANKER'") == sorted(state["ok"]), "span.type =")
    check(ids("tag.user = 'nobody'") == [], "no match")
    df = mlflow.search_traces(locations=exp, filter_string="tag.user = 'bob'")
    check(len(df) == 2 and "trace_id" in df.columns, f"DataFrame columns {list(df.columns)}")
    try:
        mlflow.search_traces(locations=exp, filter_string="trace.nonsense = 1")
        check(False, "a bad filter was accepted")
    except MlflowException as e:
        check(e.error_code == "INVALID_PARAMETER_VALUE", f"{e.error_code}: {e.message}")


@step("search_traces ordering and pages (max_results and page_token)")
def pages():
    exp = [state["experiment_id"]]
    newest = mlflow.search_traces(locations=exp, order_by=["timestamp_ms DESC"], return_type="list")
    times = [t.info.request_time for t in newest]
    check(times == sorted(times, reverse=True), f"DESC order {times}")
    check(newest[-1].info.trace_id == state["first"], "oldest last")
    oldest = mlflow.search_traces(locations=exp, order_by=["timestamp_ms ASC"], max_results=2, return_type="list")
    check([t.info.trace_id for t in oldest] == [state["first"], state["ok"][1]], f"ASC, max_results=2 {[t.info.trace_id for t in oldest]}")
    client = MlflowClient()
    seen, token, pages = [], None, 0
    while True:
        page = client.search_traces(locations=exp, max_results=2, order_by=["timestamp_ms ASC"], page_token=token)
        pages += 1
        check(len(page) <= 2, f"page of {len(page)}")
        seen += [t.info.trace_id for t in page]
        token = page.token
        if not token:
            break
        check(pages < 10, "pages end")
    check(len(seen) == 5 and len(set(seen)) == 5, f"paged {seen}")
    check(pages == 3, f"{pages} pages of 2 for 5 traces")
    check(seen[0] == state["first"], "pages keep the order")
    light = client.search_traces(locations=exp, max_results=5, include_spans=False)
    check(len(light) == 5 and all(len(t.data.spans) == 0 for t in light), "include_spans=False")


@step("feedback and expectations: log, get, update, override, delete")
def assessments():
    tid = state["first"]
    human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="reviewer@example.com")
    judge = AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id="judge-v1")
    fb = mlflow.log_feedback(trace_id=tid, name="relevance", value=0.6, source=judge, rationale="partly relevant", metadata={"round": "1"})
    check(fb.assessment_id and fb.assessment_id.startswith("a-"), f"assessment id {fb.assessment_id}")
    check(fb.value == 0.6 and fb.rationale == "partly relevant" and fb.source.source_type == "LLM_JUDGE", f"feedback {fb}")
    ex = mlflow.log_expectation(trace_id=tid, name="expected_answer", value="Paris is the capital of France.", source=human)
    check(ex.value == "Paris is the capital of France.", f"expectation {ex}")
    retrieve_span = [s for s in mlflow.get_trace(tid).data.spans if s.name == "retrieve"][0]
    span_fb = mlflow.log_feedback(trace_id=tid, name="retrieval_ok", value=True, source=human, span_id=retrieve_span.span_id)
    check(span_fb.span_id == retrieve_span.span_id, "feedback on a span")
    err_fb = mlflow.log_feedback(trace_id=state["error"], name="relevance", value=None, error=ValueError("judge timed out"), source=judge)
    check(err_fb.error is not None and err_fb.error.error_code == "ValueError", f"feedback with an error {err_fb.error}")

    got = mlflow.get_assessment(tid, fb.assessment_id)
    check(got.name == "relevance" and got.value == 0.6 and got.metadata == {"round": "1"}, f"get_assessment {got}")
    updated = mlflow.update_assessment(trace_id=tid, assessment_id=ex.assessment_id, assessment=Expectation(name="expected_answer", value="Paris"))
    check(updated.value == "Paris" and updated.assessment_id == ex.assessment_id, f"updated {updated}")
    check(mlflow.get_assessment(tid, ex.assessment_id).value == "Paris", "update read back")
    updated = mlflow.update_assessment(trace_id=tid, assessment_id=fb.assessment_id, assessment=Feedback(name="relevance", value=0.7, rationale="mostly relevant"))
    check(updated.value == 0.7 and updated.rationale == "mostly relevant", f"feedback updated {updated}")

    new = mlflow.override_feedback(trace_id=tid, assessment_id=fb.assessment_id, value=0.9, rationale="a human knows better", source=human)
    check(new.assessment_id != fb.assessment_id and new.overrides == fb.assessment_id, f"override {new}")
    check(new.valid is not False, "the override is valid")
    old = mlflow.get_assessment(tid, fb.assessment_id)
    check(old.valid is False and old.value == 0.7, f"overridden feedback is kept, invalid: {old}")

    trace = mlflow.get_trace(tid)
    by_id = {a.assessment_id: a for a in trace.info.assessments}
    check(set(by_id) == {fb.assessment_id, ex.assessment_id, span_fb.assessment_id, new.assessment_id}, f"assessments on the trace {sorted(by_id)}")
    check(by_id[span_fb.assessment_id].span_id == retrieve_span.span_id, "span id kept")
    found = mlflow.search_traces(locations=[state["experiment_id"]], filter_string="feedback.retrieval_ok = 'true'", return_type="list")
    check([t.info.trace_id for t in found] == [tid], f"feedback filter found {[t.info.trace_id for t in found]}")

    mlflow.delete_assessment(trace_id=tid, assessment_id=ex.assessment_id)
    try:
        mlflow.get_assessment(tid, ex.assessment_id)
        check(False, "deleted assessment still found")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", f"{e.error_code}: {e.message}")
    ids = {a.assessment_id for a in mlflow.get_trace(tid).info.assessments}
    check(ex.assessment_id not in ids and fb.assessment_id in ids, f"after delete {ids}")


@step("unknown ids answer MLflow's errors")
def unknown():
    missing = "tr-" + "0" * 32
    check(mlflow.get_trace(missing, silent=True) is None, "get_trace of an unknown id is None")
    try:
        MlflowClient().get_trace(missing)
        check(False, "unknown trace found")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", f"{e.error_code}: {e.message}")
    try:
        mlflow.log_feedback(trace_id=missing, name="x", value=1)
        check(False, "feedback on an unknown trace accepted")
    except MlflowException as e:
        check(e.error_code == "RESOURCE_DOES_NOT_EXIST", f"{e.error_code}: {e.message}")


@step("delete_traces by age (max_timestamp_millis, max_traces) and by ids")
def delete():
    client = MlflowClient()
    exp = mlflow.set_experiment(CLEANUP_EXPERIMENT).experiment_id
    old = []
    for i in range(3):
        answer(f"old question {i} about the capital")
        old.append(mlflow.get_last_active_trace_id())
    time.sleep(0.05)
    cut = int(time.time() * 1000)
    time.sleep(0.05)
    new = []
    for i in range(3):
        answer(f"new question {i} about the river")
        new.append(mlflow.get_last_active_trace_id())
    flush()

    def left():
        return sorted(t.info.trace_id for t in mlflow.search_traces(locations=[exp], return_type="list"))

    check(left() == sorted(old + new), "six traces before")
    n = client.delete_traces(exp, max_timestamp_millis=cut, max_traces=1)
    check(n == 1, f"max_traces=1 deleted {n}")
    check(left() == sorted(old[1:] + new), "the oldest went first")
    n = client.delete_traces(exp, max_timestamp_millis=cut)
    check(n == 2, f"older than the cut deleted {n}")
    check(left() == sorted(new), "only the new ones are left")
    n = client.delete_traces(exp, trace_ids=new[:2])
    check(n == 2, f"by ids deleted {n}")
    check(left() == [new[2]], "one left")
    check(mlflow.get_trace(new[0], silent=True) is None, "a deleted trace is gone")
    check(mlflow.get_trace(state["first"]) is not None, "other experiments' traces are untouched")
    try:
        client.delete_traces(exp)
        check(False, "delete_traces without a criterion accepted")
    except MlflowException as e:
        check(e.error_code == "INVALID_PARAMETER_VALUE", f"{e.error_code}: {e.message}")


if __name__ == "__main__":
    run_steps()
