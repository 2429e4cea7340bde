"""The sweep's facts database and cross-TU propagation (docs/sweep.md): findings
whose chain crosses files (tests/sweep/xtu/, "expect: RULE (cross-TU)" markers),
incremental re-runs, a SIGKILLed sweep that resumes, shards merged.

The fixture TUs are compiled with the 6.12 rt tree's kbuild flags through a
compile_commands.json (`--compile-commands`: files outside the tree are kept, as
for an external module); each test works on its own copy of them."""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import REPO, run_rtcheck
from rtfixtures import kbuild_flags
from sarif_check import schema_errors

XTU = os.path.join(REPO, "tests", "sweep", "xtu")
HEADER_ONCE = os.path.join(REPO, "tests", "sweep", "header_once")
MARK = re.compile(r"/\* expect: (\S+) \(cross-TU\) \*/")


@pytest.fixture
def tree(tmp_path):
    """A copy of the fixture TUs and their compile_commands.json."""
    build, _, args = kbuild_flags("6.12-rt")
    src = tmp_path / "xtu"
    shutil.copytree(XTU, src)
    files = sorted(str(src / f) for f in os.listdir(src) if f.endswith(".c"))
    cc = tmp_path / "compile_commands.json"
    cc.write_text(json.dumps([{"directory": build, "file": f, "arguments": ["clang-16", *args, f]}
                              for f in files]))
    return src, str(cc)


def sweep(cc, out, *extra):
    proc = run_rtcheck("sweep", "--compile-commands", cc, "--out", str(out), *extra)
    assert proc.returncode == 0, proc.stderr
    return proc


def findings(out):
    with open(os.path.join(out, "findings.json")) as f:
        return json.load(f)["findings"]


def expected(src):
    want = set()
    for name in os.listdir(src):
        for n, line in enumerate(open(os.path.join(src, name)), 1):
            for rule in MARK.findall(line):
                want.add((rule, os.path.join(src, name), n))
    return want


def cross(fs):
    return {(f["rule"], f["file"], f["line"]) for f in fs if f.get("cross_tu")}


def test_cross_tu_findings_at_the_marked_lines(tree, tmp_path):
    src, cc = tree
    out = tmp_path / "out"
    proc = sweep(cc, out)
    fs = findings(out)
    assert cross(fs) == expected(src) and len(expected(src)) == 6
    assert "6 across TUs" in proc.stdout
    by_line = {(f["file"], f["line"]): f for f in fs if f.get("cross_tu")}
    # Three TUs: the section, the pass-through static, the spinlock_t.
    chain = by_line[(str(src / "xtu_helpers.c"), 19)]["context"]
    assert [(os.path.basename(c["file"]), c["function"]) for c in chain] == [
        ("xtu_sections.c", "xtu_irqs_off"), ("xtu_sections.c", "xtu_irqs_off"),
        ("xtu_middle.c", "xtu_middle"), ("xtu_middle.c", "xtu_middle_step")]
    assert "defined in " + str(src / "xtu_middle.c") in chain[1]["note"]
    assert "local_irq_save()" in by_line[(str(src / "xtu_helpers.c"), 19)]["message"]
    # xtu_boot_alloc() is called with irqs off only by the __init xtu_boot(): boot code.
    assert not any("xtu_boot" in json.dumps(f) for f in fs)
    # The registration in another TU makes the handler hard-irq; the threaded one is not.
    # A guard in the callee: under a raw lock that leaves irqs on the inline free is
    # reached; xtu_put_irqs_off()'s is not (its caller holds the lock irqsave).
    guarded = by_line[(str(src / "xtu_helpers.c"), 39)]
    assert "raw_spin_lock(&xtu_raw_lock)" in guarded["message"]
    hard = by_line[(str(src / "xtu_helpers.c"), 57)]
    # A put that frees only on the last reference, under the caller's raw lock: a note.
    last = by_line[(str(src / "xtu_helpers.c"), 93)]
    assert last["severity"] == "note" and "refcount_dec_and_test()" in last["message"]
    assert all(f["severity"] == "warning" for f in fs if f.get("cross_tu") and f is not last)

    assert "registered in" in hard["message"] and "hard-irq" in hard["context"][0]["note"]
    # rt-percpu-bh: the NAPI poll of xtu_napi.c reaches xtu_frames in xtu_percpu.c; the
    # local_bh_disable() section of another function is a second use of the same object.
    bh = by_line[(str(src / "xtu_percpu.c"), 29)]
    assert bh["rule"] == "rt-percpu-bh" and "per-CPU xtu_frames" in bh["message"]
    assert "NAPI poll" in bh["context"][0]["note"]
    assert "also with only BH disabled (local_bh_disable() disables BH)" in bh["context"][-1]["note"]
    # In the sweep's SARIF log too, with the chain as a codeFlow. The fixture is outside
    # the tree: its files are file:// URIs (schema-valid; code scanning wants tree paths).
    sarif = json.load(open(out / "rtcheck.sarif"))
    assert schema_errors(sarif) == []
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]}
    assert uris == {"file://" + str(src / "xtu_helpers.c"), "file://" + str(src / "xtu_percpu.c")}
    results = [r for r in sarif["runs"][0]["results"] if r.get("properties", {}).get("crossTu")]
    assert len(results) == 6
    assert all(len(r["codeFlows"][0]["threadFlows"][0]["locations"]) >= 2 for r in results)
    assert "xtu_percpu.c" in open(out / "report.html").read()
    report = open(out / "report.txt").read()
    assert "== cross-TU findings" in report and "xtu_helpers.c:14:1: warning: kmalloc()" in report


def test_header_finding_listed_once(tmp_path):
    """Two TUs report the same header line (each with its own chain); findings.json
    and the count list it once, with the first TU's chain."""
    build, _, args = kbuild_flags("6.12-rt")
    src = tmp_path / "header_once"
    shutil.copytree(HEADER_ONCE, src)
    files = [str(src / "dup_a.c"), str(src / "dup_b.c")]
    cc = tmp_path / "compile_commands.json"
    cc.write_text(json.dumps([{"directory": build, "file": f,
                               "arguments": ["clang-16", *args, f"-I{src}", f]} for f in files]))
    out = tmp_path / "out"
    proc = sweep(str(cc), out)
    with sqlite3.connect(out / "rtcheck.db") as db:
        per_tu = db.execute("SELECT path, nfindings FROM tu").fetchall()
    assert sorted((os.path.basename(p), n) for p, n in per_tu) == [("dup_a.c", 1), ("dup_b.c", 1)]
    fs = findings(out)
    assert [(f["rule"], os.path.basename(f["file"]), f["line"]) for f in fs] == [
        ("rt-percpu-bh", "dup_nest.h", 13)]
    assert " 1 finding " in proc.stdout
    sarif = json.load(open(out / "rtcheck.sarif"))
    assert len(sarif["runs"][0]["results"]) == 1 and schema_errors(sarif) == []


def test_facts_database(tree, tmp_path):
    src, cc = tree
    out = tmp_path / "out"
    sweep(cc, out)
    q = lambda sql: subprocess.run(["sqlite3", str(out / "rtcheck.db"), sql], check=True,
                                   capture_output=True, text=True).stdout.split()
    assert q("PRAGMA journal_mode") == ["wal"]
    assert q("SELECT count(*) FROM tu WHERE state = 'ok' AND key IS NOT NULL") == ["5"]
    assert q("SELECT callee FROM call JOIN function f ON f.id = call.function"
             " WHERE f.name = 'xtu_middle_step'") == ["xtu_take_lock"]
    assert q("SELECT function || ':' || kind FROM registration ORDER BY function") == [
        "xtu_hard_handler:hardirq"]
    # rt-percpu-bh's exports: the uses xtu_percpu.c does not serialise, not the counter
    # nor the local_lock-protected one.
    assert q("SELECT DISTINCT object FROM percpu_free") == ["xtu_frames"]
    # The files a TU read include the kernel headers: what an edit of them re-checks.
    assert q("SELECT instr(includes, 'include/linux/spinlock.h') > 0 FROM tu"
             " WHERE path LIKE '%xtu_helpers.c'") == ["1"]


def test_incremental_rerun(tree, tmp_path):
    src, cc = tree
    out = tmp_path / "out"
    sweep(cc, out)
    again = sweep(cc, out)
    assert "0 analysed, 5 unchanged" in again.stdout
    os.utime(src / "xtu_middle.c")  # touched, same content: still unchanged
    assert "0 analysed, 5 unchanged" in sweep(cc, out).stdout
    # An edit of one TU re-checks it alone, and the propagation follows it.
    text = (src / "xtu_middle.c").read_text()
    (src / "xtu_middle.c").write_text(text.replace("\txtu_take_lock();\n", "\t;\n"))
    edited = sweep(cc, out)
    assert "1 analysed, 4 unchanged" in edited.stdout
    lines = {(os.path.basename(f), n) for _, f, n in cross(findings(out))}
    assert lines == {("xtu_helpers.c", 14), ("xtu_helpers.c", 39), ("xtu_helpers.c", 57),
                     ("xtu_helpers.c", 93), ("xtu_percpu.c", 29)}
    assert "5 analysed, 0 unchanged" in sweep(cc, out, "--fresh").stdout


def test_sigkill_resume_gives_the_same_results(tree, tmp_path):
    src, cc = tree
    whole = tmp_path / "whole"
    sweep(cc, whole)
    out = tmp_path / "killed"
    proc = subprocess.Popen([os.path.join(REPO, "build", "rtcheck-sweep"), "--jobs", "1",
                             "--compile-commands", cc, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = out / "rtcheck.db"
    deadline = time.time() + 120
    while time.time() < deadline:  # kill it once one TU is stored, before the last
        done = subprocess.run(["sqlite3", str(db), "SELECT count(*) FROM tu"],
                              capture_output=True, text=True).stdout.strip() if db.exists() else ""
        if done in ("1", "2", "3", "4"):
            break
        time.sleep(0.05)
    os.killpg(os.getpgid(proc.pid), 0)  # still running
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for child in subprocess.run(["pgrep", "-f", str(out)], capture_output=True,
                                text=True).stdout.split():
        os.kill(int(child), signal.SIGKILL)  # the orphaned checker, if any
    resumed = sweep(cc, out, "--jobs", "1")
    assert re.search(r"\b[1-4] unchanged", resumed.stdout), resumed.stdout
    assert findings(out) == findings(whole)


def test_shards_merge_to_the_whole_sweep(tree, tmp_path):
    src, cc = tree
    whole = tmp_path / "whole"
    sweep(cc, whole)
    shard_tus = []
    for i in range(2):
        proc = sweep(cc, tmp_path / f"shard{i}", "--shard", f"{i}/2")
        shard_tus.append(int(re.search(r"sweep: (\d+) TUs", proc.stdout).group(1)))
    assert sum(shard_tus) == 5 and 0 not in shard_tus
    merged = tmp_path / "merged"
    proc = run_rtcheck("sweep", "merge", "--out", str(merged),
                       str(tmp_path / "shard0" / "rtcheck.db"), str(tmp_path / "shard1" / "rtcheck.db"))
    assert proc.returncode == 0, proc.stderr
    assert "5 TUs" in proc.stdout and "6 across TUs" in proc.stdout
    assert findings(merged) == findings(whole)


@pytest.mark.parametrize("args,words", [
    (["--shard", "2/2"], "--shard I"),
    (["--shard", "x"], "not I/N"),
    (["merge"], "no shard database"),
])
def test_usage_errors(tmp_path, args, words):
    sub = [args.pop(0)] if args[0] == "merge" else []
    proc = run_rtcheck("sweep", *sub, "--out", str(tmp_path / "o"), *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("rtcheck: error: ") and words in proc.stderr


def test_merge_refuses_a_foreign_database(tmp_path):
    bogus = tmp_path / "bogus.db"
    subprocess.run(["sqlite3", str(bogus), "CREATE TABLE t(x)"], check=True)
    proc = run_rtcheck("sweep", "merge", "--out", str(tmp_path / "m"), str(bogus))
    assert proc.returncode == 3 and "not an rtcheck sweep database" in proc.stderr
