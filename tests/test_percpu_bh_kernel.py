"""rt-percpu-bh on the real napi_alloc_cache of Linux 6.12 (net/core/skbuff.c):
with upstream's nested-BH conversion (bdacf3e34945) taken out again, rtcheck
finds napi_alloc_cache and its fix puts the lock back where upstream put it.
The one difference is napi_skb_cache_get(), whose use ends in a return: rtcheck
writes guard(local_lock_nested_bh) where upstream unlocks before the return."""
import difflib
import json
import os
import re
import subprocess

import pytest

from conftest import REPO, prepared_tree
from rtfixtures import kbuild_flags

TOOL = os.path.join(REPO, "build", "rtcheck-clang")
TU = "net/core/skbuff.c"
LOCK = re.compile(r"\n[ \t]*local_(un)?lock_nested_bh\(&napi_alloc_cache\.bh_lock\);")


def unconverted(text):
    """6.12's skbuff.c as it was before the conversion of napi_alloc_cache."""
    out = text.replace("\tlocal_lock_t bh_lock;\n", "", 1)
    out = out.replace("static DEFINE_PER_CPU(struct napi_alloc_cache, napi_alloc_cache) = {\n"
                      "\t.bh_lock = INIT_LOCAL_LOCK(bh_lock),\n};",
                      "static DEFINE_PER_CPU(struct napi_alloc_cache, napi_alloc_cache);")
    out = LOCK.sub("", out)
    assert "bh_lock" not in out, "the 6.12 source changed: update unconverted()"
    return out


def run(tree, path, *opts):
    build, src, args = kbuild_flags(tree, TU)
    args = args + ["-I", os.path.join(src, os.path.dirname(TU))]  # its local headers
    out = path + ".json"
    proc = subprocess.run([TOOL, "--format=json", f"--output={out}", "--rules=rt-percpu-bh",
                           f"--root={os.path.dirname(path)}", *opts, "--", *args, path],
                          cwd=build, capture_output=True, text=True)
    findings = json.load(open(out))["findings"] if os.path.exists(out) else []
    return proc, findings


@pytest.fixture(scope="module")
def upstream():
    src = prepared_tree("6.12", "rt", src=True)
    return open(os.path.join(src, TU)).read()


def changed_functions(before, after):
    """Names of the functions whose non-blank lines differ."""
    a = [l for l in before.split("\n") if l.strip()]
    b = [l for l in after.split("\n") if l.strip()]
    names, current = set(), None
    func = re.compile(r"^\w[\w\s\*]*?(\w+)\(")
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for line in reversed(a[:i1 + 1]):
            m = func.match(line)
            if m and not line.startswith(("static DEFINE", "DEFINE")):
                current = m.group(1)
                break
        names.add(current)
    return names


def test_napi_alloc_cache_is_found_and_converted_as_upstream_did(upstream, tmp_path):
    work = tmp_path / "skbuff.c"
    work.write_text(unconverted(upstream))
    proc, findings = run("6.12-rt", str(work))
    assert proc.returncode == 0, proc.stderr
    mine = [f for f in findings if "per-CPU napi_alloc_cache " in f["message"]]
    assert len(mine) == 1, [f["message"][:80] for f in findings]
    assert mine[0]["function"] == "__napi_alloc_frag_align"
    # one note per other BH-only use: napi_skb_cache_get, __netdev_alloc_skb,
    # napi_alloc_skb, napi_skb_cache_put
    also = [c for c in mine[0]["context"] if c["note"].startswith("also with only BH disabled")]
    assert {c["function"] for c in also} >= {"napi_skb_cache_get", "__netdev_alloc_skb",
                                              "napi_alloc_skb", "napi_skb_cache_put"}
    assert mine[0]["fix"]["kind"] == "suggestion"  # a guard() in a function that had none

    proc, _ = run("6.12-rt", str(work), "--fix", "--unsafe")
    assert proc.returncode == 0, proc.stderr
    fixed = work.read_text()
    assert changed_functions(upstream, fixed) == {"napi_skb_cache_get"}, \
        "".join(difflib.unified_diff(upstream.splitlines(True), fixed.splitlines(True)))
    assert "guard(local_lock_nested_bh)(&napi_alloc_cache.bh_lock);" in fixed

    for tree in ("6.12-rt", "6.12-nort"):
        proc, after = run(tree, str(work))
        assert proc.returncode == 0 and "does not compile" not in proc.stderr, proc.stderr
        assert not [f for f in after if "napi_alloc_cache" in f["message"]], tree
