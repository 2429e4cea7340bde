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


def real_facts(rel, tree="6.12-rt"):
    """facts_of() for a file of the prepared tree, with its own kbuild flags."""
    build, src, args = kbuild_flags(tree, rel)
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        subprocess.run([os.path.join(REPO, "build", "rtcheck-clang"), f"--facts={out.name}",
                        f"--root={src}", "--output=/dev/null", "--", *args,
                        os.path.join(src, rel)], cwd=build, check=True, capture_output=True)
        doc = json.loads(open(out.name).read().splitlines()[0])
    return {f["name"]: f for f in doc["functions"]}


def test_last_reference_sites_are_marked():
    """put_pi_state()'s kfree() runs only when refcount_dec_and_test() dropped the
    last reference: the sweep makes a caller's atomic section over it a note."""
    fns = facts_of(os.path.join(FIXTURES, "rt-atomic-sleep", "interprocedural.c"))
    assert [s.get("last_ref") for s in fns["fixture_obj_put"]["may_sleep"]] == \
        ["refcount_dec_and_test"]
    fns = real_facts("kernel/futex/pi.c")
    assert {s.get("last_ref") for s in fns["put_pi_state"]["may_sleep"]
            if s["op"] == "kfree"} == {"refcount_dec_and_test"}


def test_serialising_callees_export_no_per_cpu_use():
    """Issue 18's examples on the real files: memalloc's caches are serialised by
    unit_free()/unit_free_rcu() (irqs off, but for one hint store); __hrtimer_init()
    only stores an address into the timer. Neither is a use other TUs' BH sections
    may reach."""
    fns = real_facts("kernel/bpf/memalloc.c")
    for name in ("bpf_mem_cache_free", "bpf_mem_free_rcu", "bpf_mem_free", "bpf_mem_alloc"):
        assert not fns[name].get("percpu_free"), name
    fns = real_facts("kernel/time/hrtimer.c")
    assert not fns["__hrtimer_init"].get("percpu_free")
