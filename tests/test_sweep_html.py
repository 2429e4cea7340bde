"""The whole-sweep outputs of `rtcheck sweep` (docs/sweep.md, Outputs):
OUT/rtcheck.sarif, merged from the TUs' own SARIF logs.

Two sweeps, each shared by the tests that use it:
- `real`: fs/nfs/unlink.c (rt-rwsem-non-owner), a copy of the fixture
  rt-atomic-sleep/get_cpu_ptr.c (chains; suggestions with patches) and a TU
  that does not compile, whose #error puts markup into its failure. The two
  files are written into the 6.12 tree's kernel/ and removed afterwards.
- `fake`: build/rtcheck-sweep copied beside a stand-in rtcheck-clang that
  writes given reports: one result from two TUs (a header's inline function),
  the rules listed in different orders, markup in messages, notes and patches,
  a TU that fails. rtcheck-clang itself never reports a header twice today.
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import FIXTURES, REPO, run_rtcheck
from sarif_check import validate_sarif

BAD_ERROR = "rtcheck test: <img src=x onerror=alert(1)> & \"quoted\""


def load(out, name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)


# --- the two sweeps ---------------------------------------------------------

@pytest.fixture(scope="module")
def real(rt_build, src_612, tmp_path_factory):
    stem = f"kernel/rtcheck_html_{os.getpid()}"
    fix_tu, bad_tu = stem + "_fixes.c", stem + "_bad.c"
    shutil.copy(os.path.join(FIXTURES, "rt-atomic-sleep", "get_cpu_ptr.c"),
                os.path.join(src_612, fix_tu))
    with open(os.path.join(src_612, bad_tu), "w") as f:
        f.write(f"#error {BAD_ERROR}\n")
    out = str(tmp_path_factory.mktemp("sweep-html") / "out")
    try:
        proc = run_rtcheck("sweep", "--build", rt_build, "--out", out,
                           "fs/nfs/unlink.c", fix_tu, bad_tu)
    finally:
        for rel in (fix_tu, bad_tu):
            os.unlink(os.path.join(src_612, rel))
    assert proc.returncode == 0, proc.stderr
    assert "3 TUs, 2 analysed, 1 failed" in proc.stdout, proc.stdout
    return {"out": out, "fix_tu": fix_tu, "bad_tu": bad_tu}


def fake_finding(rule, file, line, function, message, context=(), fix=None):
    kind, summary, diff = fix or ("none", "no automatic conversion", None)
    f = {"column": 2, "context": [{"column": 2, "file": cf, "function": cfn, "line": cl,
                                   "note": note} for cf, cl, cfn, note in context],
         "file": file, "fix": {"kind": kind, "summary": summary}, "function": function,
         "line": line, "message": message, "rule": rule, "severity": "warning"}
    if diff:
        f["fix"]["diff"] = diff
    return f


def fake_result(f, rules):
    """The SARIF result rtcheck-clang would write for finding f."""
    def loc(file, line):
        return {"physicalLocation": {"artifactLocation": {"uri": file, "uriBaseId": "SRCROOT"},
                                     "region": {"startLine": line, "startColumn": 2}}}
    r = {"ruleId": f["rule"], "ruleIndex": rules.index(f["rule"]), "level": "warning",
         "message": {"text": f["message"]}, "locations": [loc(f["file"], f["line"])]}
    if f["context"]:
        steps = [{"location": dict(loc(c["file"], c["line"]), message={"text": c["note"]})}
                 for c in f["context"]] + [{"location": loc(f["file"], f["line"])}]
        r["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
    return r


ATOMIC, PERCPU, BPF = "rt-atomic-sleep", "rt-percpu-bh", "rt-bpf-preempt"
HEADER_DIFF = ("--- a/include/linux/rtcheck_fake.h\n+++ b/include/linux/rtcheck_fake.h\n"
               "@@ -10,2 +10,2 @@\n-\tlocal_bh_disable(); /* <old> & */\n"
               "+\tlocal_lock_nested_bh(&fake->bh_lock); /* <new> */\n \treturn;\n")
HEADER = fake_finding(PERCPU, "include/linux/rtcheck_fake.h", 12, "fake_inline",
                      "per-CPU <struct fake> & \"its\" data serialised only by disabled BH",
                      context=[("include/linux/rtcheck_fake.h", 10, "fake_inline",
                                "local_bh_disable() & <friends>")],
                      fix=("suggestion", "a local_lock_t <nested> in BH", HEADER_DIFF))
IN_UNLINK = fake_finding(ATOMIC, "fs/nfs/unlink.c", 69, "nfs_fake",
                         "kmalloc() </td></tr><script>alert(1)</script> under a raw lock")
IN_WRITE = fake_finding(BPF, "fs/nfs/write.c", 5, "nfs_fake_write",
                        "preempt_disable() around bpf_prog_run() 'here'")
FAKE_ERROR = "error: does not compile: <img src=x onerror=alert(2)> & \"so\""
# TU: (its driver's rules, its findings); a TU without them fails.
FAKE_TUS = {
    "fs/nfs/unlink.c": ([PERCPU, ATOMIC], [IN_UNLINK, HEADER]),
    "fs/nfs/write.c": ([BPF, ATOMIC, PERCPU], [HEADER, IN_WRITE]),
    "kernel/bpf/core.c": None,
}
FAKE_CHECKER = r'''#!/usr/bin/python3
"""Stand-in rtcheck-clang of tests/test_sweep_html.py: the reports of spec.json."""
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
spec = json.load(open(os.path.join(here, "spec.json")))
opts = dict(a.split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
tu = spec[os.path.relpath(sys.argv[-1], opts["--root"])]
if "error" in tu:
    sys.stderr.write(tu["error"] + "\n")
    sys.exit(3)
open(opts["--output"], "w").write(tu["text"])
for a in sys.argv[1:]:
    if a.startswith("--also="):
        fmt, path = a[len("--also="):].split(":", 1)
        with open(path, "w") as f:
            f.write(tu[fmt])
'''


@pytest.fixture(scope="module")
def fake(rt_build, tmp_path_factory):
    assert run_rtcheck("--version").returncode == 0  # builds build/rtcheck-sweep
    base = tmp_path_factory.mktemp("sweep-fake")
    bin_dir, out = base / "bin", str(base / "out")
    bin_dir.mkdir()
    shutil.copy(os.path.join(REPO, "build", "rtcheck-sweep"), bin_dir)
    (bin_dir / "rtcheck-clang").write_text(FAKE_CHECKER)
    (bin_dir / "rtcheck-clang").chmod(0o755)
    spec = {}
    for rel, tu in FAKE_TUS.items():
        if tu is None:
            spec[rel] = {"error": FAKE_ERROR}
            continue
        rules, fs = tu
        sarif = {"version": "2.1.0", "runs": [{
            "tool": {"driver": {"name": "rtcheck", "rules": [{"id": r} for r in rules]}},
            "results": [fake_result(f, rules) for f in fs]}]}
        spec[rel] = {"text": "".join(f"{f['file']}:{f['line']}: {f['message']}\n" for f in fs),
                     "jsonl": "".join(json.dumps(f) + "\n" for f in fs),
                     "sarif": json.dumps(sarif)}
    (bin_dir / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.run([str(bin_dir / "rtcheck-sweep"), "--build", rt_build, "--out", out,
                           *FAKE_TUS], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "3 TUs, 2 analysed, 1 failed" in proc.stdout, proc.stdout
    return out


# --- SARIF --------------------------------------------------------------------

def run0(doc):
    assert len(doc["runs"]) == 1
    return doc["runs"][0]


def test_sweep_sarif_merges_the_tus(fake):
    doc = load(fake, "rtcheck.sarif")
    assert validate_sarif(doc) == [], validate_sarif(doc)[:20]
    run = run0(doc)
    # the union of the rules, in the order the TUs (in path order) list them
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == [PERCPU, ATOMIC, BPF]
    # results in path order, the header's once, ruleIndex into the merged rules
    merged = [fake_result(f, rules) for f in (IN_UNLINK, HEADER, IN_WRITE)]
    assert run["results"] == merged
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file:///")
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["descriptor"]["id"] == "tu-failed"
    assert note["message"]["text"] == \
        "kernel/bpf/core.c: not analysed: exit 3: input error (does not compile)"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "kernel/bpf/core.c"
    assert note["properties"]["stderr"] == FAKE_ERROR
    props = invocation["properties"]
    assert [props[k] for k in ("tus", "analysed", "failed", "notRun")] == [3, 2, 1, 0]


def test_sweep_sarif_of_a_real_sweep(real):
    out = real["out"]
    doc = load(out, "rtcheck.sarif")
    assert validate_sarif(doc) == [], validate_sarif(doc)[:20]
    run = run0(doc)
    findings = load(out, "findings.json")["findings"]
    assert len(run["results"]) == len(findings) > 10
    # the same findings as findings.json, in the same order, with chains and fixes
    for r, f in zip(run["results"], findings):
        where = r["locations"][0]["physicalLocation"]
        assert (r["ruleId"], where["artifactLocation"]["uri"], where["region"]["startLine"],
                r["message"]["text"]) == (f["rule"], f["file"], f["line"], f["message"])
        assert ("codeFlows" in r) == bool(f["context"])
        if f["context"]:  # the chain, then the finding
            steps = r["codeFlows"][0]["threadFlows"][0]["locations"]
            assert len(steps) == len(f["context"]) + 1
        assert ("fixes" in r) == (f["fix"]["kind"] in ("auto", "suggestion")), f
        if "fixes" in r:
            assert r["properties"]["fixDiff"] == f["fix"]["diff"]
    assert sum("fixes" in r for r in run["results"]) >= 3
    # each TU's log, concatenated in path order
    logs = [load(out, os.path.join("tu", rel.replace("/", "__") + ".sarif"))
            for rel in ("fs/nfs/unlink.c", real["fix_tu"])]
    assert run["results"] == [r for log in logs for r in run0(log)["results"]]
    assert run["tool"]["driver"]["rules"] == run0(logs[0])["tool"]["driver"]["rules"]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith(real["bad_tu"] + ": not analysed: exit 3")
    assert BAD_ERROR in note["properties"]["stderr"]

