"""The small step runner the flows share: each flow registers its steps with
@step, checks with check(), and ends with run_steps(), which runs the steps
in order, prints one line each and exits non-zero when any failed
(FLOW_TRACE=1 prints the traceback of a failing step)."""

import os
import sys
import time

import mlflow

STEPS = []


def step(name):
    def wrap(fn):
        STEPS.append((name, fn))
        return fn

    return wrap


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run_steps():
    print(f"tracking URI: {mlflow.get_tracking_uri()}  mlflow {mlflow.__version__}")
    failed = 0
    for name, fn in STEPS:
        t = time.time()
        try:
            fn()
            print(f"ok    {name} ({time.time() - t:.1f}s)")
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL  {name}: {type(e).__name__}: {e}")
            if os.environ.get("FLOW_TRACE"):
                import traceback

                traceback.print_exc()
    print(f"{len(STEPS) - failed}/{len(STEPS)} steps passed")
    sys.exit(1 if failed else 0)
