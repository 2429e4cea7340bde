"""rtcheck-clang --facts: per-TU summaries the sweep will join across files."""
import json
import os
import subprocess
import tempfile

from conftest import FIXTURES, REPO
from rtfixtures import kbuild_flags


def facts_of(path, tree="6.12-rt"):
    build, src, args = kbuild_flags(tree)
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        subprocess.run([os.path.join(REPO, "build", "rtcheck-clang"), f"--facts={out.name}",
                        f"--root={src}", "--output=/dev/null", "--", *args, path],
                       cwd=build, check=True, capture_output=True)
        lines = open(out.name).read().splitlines()
    assert len(lines) == 1, "one JSON line per TU"
    doc = json.loads(lines[0])
    return {f["name"]: f for f in doc["functions"]}


def test_interprocedural_summaries():
    fns = facts_of(os.path.join(FIXTURES, "rt-atomic-sleep", "interprocedural.c"))
    assert fns["fixture_lock_bucket"]["returns_holding"] == ["raw_lock"]
    assert "raw_lock" in fns["fixture_unlock_bucket"]["releases"]
    assert [e["kind"] for e in fns["fixture_hard_handler"]["entry"]] == ["hardirq"]
    assert fns["fixture_threaded_handler"]["entry"] == []
    assert [s["op"] for s in fns["fixture_alloc_elem"]["may_sleep"]] == ["kzalloc"]
    deep = fns["fixture_alloc_elem_twice_removed"]["may_sleep"]
    assert [(s["op"], s["depth"]) for s in deep] == [("kzalloc", 1)]
    # Calls to functions defined elsewhere carry the context they run in.
    calls = {c["callee"]: c for c in fns["fixture_setup"]["calls"]}
    assert calls["smp_call_function"]["held"] == []
    assert "request_irq" not in calls  # an inline: the TU follows it itself


def test_external_call_context():
    fns = facts_of(os.path.join(FIXTURES, "rt-atomic-sleep", "sleep_ops.c"))
    # hrtimer_cancel is an API entry, not an external call to follow.
    assert all(c["callee"] != "hrtimer_cancel" for c in fns["fixture_sleeps_on_rt"]["calls"])
