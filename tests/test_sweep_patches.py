"""`rtcheck sweep` writes its fixes as git format-patch series under OUT/patches/
(docs/sweep.md "Patch series"), checked on real findings: the two rt-percpu-bh
suggestions of 6.12's kernel/trace/bpf_trace.c (one file: the second patch is
made on top of the first) and the two rt-atomic-sleep suggestions of 6.1's
net/core/sock_map.c (raw_spinlock_t -> spinlock_t, which upstream did later;
one conversion fixes three findings). The swept paths of both trees have no
real `auto` fix: by default (--patches=auto) the series is empty.

Each series is applied with git am to a clean repository holding copies of the
files it touches, must give one commit per patch with the expected subjects and
author, and must be what git format-patch writes for those commits; each
patched file must compile with kbuild's exact flags on the trees that build it."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, prepared_tree, run_rtcheck
from rtfixtures import kbuild_flags

TOOL = os.path.join(REPO, "build", "rtcheck-clang")
EPOCH = "1735732800"  # Wed, 1 Jan 2025 12:00:00 +0000
MBOX = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
BPF_TRACE = "kernel/trace/bpf_trace.c"
SOCK_MAP = "net/core/sock_map.c"
# series directory: (tree, swept file, subjects, trees the patched file must compile on)
SERIES = {
    "bpf": ("6.12-rt", BPF_TRACE,
            ["bpf: Use nested-BH locking for send_signal_work",
             "bpf: Use nested-BH locking for bpf_raw_tp_regs"], ["6.12-rt", "6.12-nort"]),
    "bpf-sockmap": ("6.1-nort", SOCK_MAP,
                    ["bpf, sockmap: Make stab->lock a spinlock_t",
                     "bpf, sockmap: Make bucket->lock a spinlock_t"], ["6.1-nort"]),
}
ADA = "Ada Lovelace <ada@example.org>"
ZOE = "Zoë Example <zoe@example.org>"


def build_of(tree):
    return prepared_tree(*tree.split("-", 1))


def git_env(tmp, name_email=None):
    """No system config; a global config with user.name/email, or none."""
    cfg = tmp / "gitconfig"
    if name_email:
        name, email = re.match(r"(.*) <(.*)>", name_email).groups()
        cfg.write_text(f"[user]\n\tname = {name}\n\temail = {email}\n")
    else:
        cfg.write_text("")
    return dict(os.environ, GIT_CONFIG_GLOBAL=str(cfg), GIT_CONFIG_NOSYSTEM="1",
                SOURCE_DATE_EPOCH=EPOCH)


def sweep(tmp, tree, path, *opts, gitconfig=None, out=None):
    out = out or str(tmp / "out")
    proc = run_rtcheck("sweep", "--build", build_of(tree), "--out", out, *opts, path,
                       env=git_env(tmp, gitconfig), cwd=str(tmp))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return out


@pytest.fixture(scope="module")
def outs(tmp_path_factory):
    """The sweeps: {name: OUT}. bpf: git config's user; bpf-sockmap: --patch-from;
    fallback: no user configured; auto: the default mode over a stale series."""
    def tmp(name):
        return tmp_path_factory.mktemp(name)
    stale = tmp("auto")
    os.makedirs(stale / "out" / "patches" / "old", exist_ok=True)
    (stale / "out" / "patches" / "old" / "0001-old.patch").write_text("old\n")
    (stale / "out" / "patches" / "series").write_text("old/0001-old.patch\n")
    return {
        "bpf": sweep(tmp("bpf"), "6.12-rt", BPF_TRACE, "--patches=all", gitconfig=ADA),
        "bpf-sockmap": sweep(tmp("sockmap"), "6.1-nort", SOCK_MAP, "--patches", "all",
                             "--patch-from", ZOE, gitconfig=ADA),
        "fallback": sweep(tmp("fallback"), "6.12-rt", BPF_TRACE, "--patches=all"),
        "auto": sweep(stale, "6.12-rt", BPF_TRACE),
    }


def series_files(out, name):
    d = os.path.join(out, "patches", name)
    with open(os.path.join(d, "series")) as f:
        return [os.path.join(d, line.strip()) for line in f if line.strip()]


def findings(out):
    with open(os.path.join(out, "findings.json")) as f:
        return json.load(f)["findings"]


def body(patch):
    """The commit message part of a patch mail, whitespace-normalised."""
    text = open(patch).read()
    return " ".join(text.split("\n\n", 1)[1].split("\n---\n", 1)[0].split())


def test_layout(outs):
    out = outs["bpf"]
    assert sorted(os.listdir(os.path.join(out, "patches"))) == ["bpf", "series"]
    names = [os.path.basename(p) for p in series_files(out, "bpf")]
    assert names == ["0001-bpf-Use-nested-BH-locking-for-send_signal_work.patch",
                     "0002-bpf-Use-nested-BH-locking-for-bpf_raw_tp_regs.patch"]
    assert sorted(os.listdir(os.path.join(out, "patches", "bpf"))) == \
        ["0000-cover-letter.patch", *names, "series"]
    top = open(os.path.join(out, "patches", "series")).read().split()
    assert top == [f"bpf/{n}" for n in names]


@pytest.mark.parametrize("name", SERIES)
def test_headers(outs, name):
    want = SERIES[name][2]
    sender = ZOE if name == "bpf-sockmap" else ADA
    encoded = "=?UTF-8?q?Zo=C3=AB_Example?= <zoe@example.org>" if sender == ZOE else sender
    for n, patch in enumerate(series_files(outs[name], name), 1):
        text = open(patch).read()
        head = text.split("\n\n", 1)[0] + "\n"
        assert text.startswith(MBOX)
        assert f"\nFrom: {encoded}\n" in head
        assert "\nDate: Wed, 1 Jan 2025 12:00:00 +0000\n" in head
        assert f"\nSubject: [PATCH {n}/{len(want)}] {want[n - 1]}\n" in head
        assert re.search(r"\n---\n \S+ +\| +\d+ \+*-*\n 1 file changed, .*\n\ndiff --git ",
                         text), patch
        assert re.search(r"\n-- \nrtcheck \S+\n\n\Z", text), text[-100:]
    fallback = open(series_files(outs["fallback"], "bpf")[0]).read()
    assert "\nFrom: rtcheck <rtcheck@localhost>\n" in fallback


def test_auto_by_default(outs):
    """The real sites have suggestions only: the default series is empty, and
    the stale series of an earlier run is gone."""
    out = outs["auto"]
    fixes = [f["fix"]["kind"] for f in findings(out) if f["fix"].get("diff")]
    assert fixes == ["suggestion", "suggestion"]
    assert os.listdir(os.path.join(out, "patches")) == ["series"]
    assert open(os.path.join(out, "patches", "series")).read() == ""


def git(repo, *args, env=None):
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture(scope="module")
def applied(outs, tmp_path_factory):
    """{series: (repo, patches)}: git am of each series on a clean repository
    with copies of the files its patches touch."""
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org")
    result = {}
    for name, (tree, _, _, _) in SERIES.items():
        patches = series_files(outs[name], name)
        src = prepared_tree(*tree.split("-", 1), src=True)
        repo = tmp_path_factory.mktemp("am-" + name)
        touched = {m for p in patches
                   for m in re.findall(r"^diff --git a/(\S+) ", open(p).read(), re.M)}
        for rel in touched:
            os.makedirs(repo / os.path.dirname(rel), exist_ok=True)
            shutil.copy(os.path.join(src, rel), repo / rel)
        git(repo, "init", "-q", env=env)
        git(repo, "add", ".", env=env)
        git(repo, "commit", "-qm", "base", env=env)
        git(repo, "am", *patches, env=env)
        result[name] = (repo, patches, env)
    return result


@pytest.mark.parametrize("name", SERIES)
def test_series_ends_where_the_fix_diffs_do(outs, applied, tmp_path, name):
    """The files after git am of the series are the originals with every fix
    diff of findings.json applied by git apply, each as the checker made it."""
    repo, _, env = applied[name]
    tree, tu = SERIES[name][:2]
    src = prepared_tree(*tree.split("-", 1), src=True)
    os.makedirs(tmp_path / os.path.dirname(tu))
    shutil.copy(os.path.join(src, tu), tmp_path / tu)
    diffs = []
    for f in findings(outs[name]):
        if f["fix"].get("diff") and f["fix"]["diff"] not in diffs:
            diffs.append(f["fix"]["diff"])
    assert len(diffs) == 2
    for d in diffs:  # git apply finds each hunk where the ones before moved it
        (tmp_path / "fix.diff").write_text(d)
        git(tmp_path, "apply", "fix.diff", env=env)
    assert open(repo / tu).read() == open(tmp_path / tu).read()


@pytest.mark.parametrize("name", SERIES)
def test_git_am_applies_the_series(applied, name):
    repo, patches, env = applied[name]
    want = SERIES[name][2]
    log = git(repo, "log", "--reverse", "--format=%an <%ae>|%s", env=env).splitlines()
    assert [line.split("|", 1)[1] for line in log] == ["base", *want]
    sender = ZOE if name == "bpf-sockmap" else ADA
    assert {line.split("|", 1)[0] for line in log[1:]} == {sender}
    # Each patch is git's own form of its commit: diffstat, hunks, function lines.
    for n, patch in enumerate(patches, 1):
        theirs = git(repo, "format-patch", "-1", "--stdout", "--no-signature",
                     f"HEAD~{len(patches) - n}", env=env)
        theirs = re.sub(r"^index .*\n", "", theirs.split("\n---\n", 1)[1], flags=re.M)
        mine = open(patch).read().split("\n---\n", 1)[1].rsplit("\n-- \n", 1)[0]
        assert mine + "\n" == theirs.rsplit("-- \n", 1)[0], patch


def compile_file(tree, tu, path):
    """clang with kbuild's flags for tu (its .i record, as an object build)."""
    build, _, args = kbuild_flags(tree, tu)
    cc, skip = [], False
    for a in args:
        if skip or a == "-E" or a.startswith("-Wp,-MMD"):
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        cc.append(a)
    obj = str(path) + f".{tree}.o"
    return subprocess.run(["clang-16", *cc, "-c", "-o", obj, str(path)], cwd=build,
                          capture_output=True, text=True)


@pytest.mark.parametrize("name", SERIES)
def test_patched_files_compile(applied, name):
    repo, _, _ = applied[name]
    tree, tu, _, trees = SERIES[name]
    src = prepared_tree(*tree.split("-", 1), src=True)
    assert open(repo / tu).read() != open(os.path.join(src, tu)).read()
    for t in trees:
        proc = compile_file(t, tu, repo / tu)
        assert proc.returncode == 0, f"{t}: {proc.stderr[-3000:]}"


def test_a_broken_file_does_not_compile(tmp_path):
    """compile_file() reports what the kernel's flags refuse (-Werror)."""
    src = prepared_tree("6.12", "rt", src=True)
    broken = tmp_path / "bpf_trace.c"
    broken.write_text(open(os.path.join(src, BPF_TRACE)).read() +
                      "\nint rtcheck_unused_function(void) { return 0; }\n")
    assert compile_file("6.12-rt", BPF_TRACE, broken).returncode != 0


def test_patched_file_has_no_finding_left(applied):
    repo, _, _ = applied["bpf"]
    build, _, args = kbuild_flags("6.12-rt", BPF_TRACE)
    out = str(repo / "after.json")
    proc = subprocess.run([TOOL, "--format=json", f"--output={out}", f"--root={repo}", "--",
                           *args, str(repo / BPF_TRACE)], cwd=build, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    left = json.load(open(out))["findings"]
    assert not [f for f in left if f["rule"] == "rt-percpu-bh"], left


@pytest.mark.parametrize("name", SERIES)
def test_body_names_findings_and_chains(outs, name):
    """A patch lists each finding whose fix is its diff, with its whole chain,
    the rule, the conversion and what it does without PREEMPT_RT."""
    out = outs[name]
    patches = series_files(out, name)
    by_diff = {}
    for f in findings(out):
        if f["fix"].get("diff"):
            by_diff.setdefault(f["fix"]["diff"], []).append(f)
    assert len(by_diff) == len(patches)
    for patch, fs in zip(patches, by_diff.values()):
        text = body(patch)
        assert f"rtcheck's {fs[0]['rule']} rule" in text
        assert " ".join(fs[0]["fix"]["summary"][1:].split()) in text
        for f in fs:
            assert " ".join(f"{f['file']}:{f['line']} {f['function']}(): {f['message']}"
                            .split()) in text
            for step in f["context"]:
                where = f"{step['file']}:{step['line']} "
                where += f"{step['function']}(): " if step["function"] else ""
                assert " ".join((where + step["note"]).split()) in text, (patch, step)
        assert "suggestion of rtcheck" in text
    if name == "bpf-sockmap":
        assert [len(fs) for fs in by_diff.values()] == [3, 1]
        assert "On !PREEMPT_RT a spinlock_t is a raw_spinlock_t: no functional change." in \
            body(patches[0])


@pytest.mark.parametrize("name", SERIES)
def test_cover_letter(outs, applied, name):
    repo, patches, env = applied[name]
    cover = open(os.path.join(outs[name], "patches", name, "0000-cover-letter.patch")).read()
    want = SERIES[name][2]
    assert cover.startswith(MBOX)
    prefix = want[0].split(": ", 1)[0]
    assert f"\nSubject: [PATCH 0/{len(want)}] {prefix}: PREEMPT_RT conversions found by " \
           "rtcheck\n" in cover
    shortlog = "".join(f"  {s}\n" for s in want)
    assert f" ({len(want)}):\n{shortlog}\n" in cover
    stat = git(repo, "diff", "--stat=72", "HEAD~%d" % len(patches), "HEAD", env=env)
    assert stat in cover
    assert "0 automatic, 2 suggestions to review" in " ".join(cover.split())


@pytest.mark.parametrize("name", SERIES)
def test_checkpatch(outs, name):
    """The kernel's checkpatch.pl finds no error and no warning (the patches
    deliberately carry no Signed-off-by: the sender adds theirs)."""
    src = prepared_tree("6.12", "rt", src=True)
    for patch in series_files(outs[name], name):
        proc = subprocess.run(["perl", os.path.join(src, "scripts", "checkpatch.pl"),
                               "--no-tree", "--ignore", "MISSING_SIGN_OFF", patch],
                              capture_output=True, text=True)
        assert re.search(r"^total: 0 errors, 0 warnings,", proc.stdout, re.M), proc.stdout


@pytest.mark.parametrize("args,words", [
    (["--patches=some"], ["--patches", "'some'", "auto, all or none"]),
    (["--patches"], ["--patches needs a value"]),
    (["--patch-from", "nobody"], ["--patch-from", "'nobody'", "Name <email>"]),
])
def test_usage_errors(args, words, tmp_path):
    proc = run_rtcheck("sweep", "--out", str(tmp_path / "out"), "fs/nfs", *args)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("rtcheck: error: ")
    for w in words:
        assert w in lines[0]
    assert not os.path.exists(tmp_path / "out")


def test_help_names_the_options():
    proc = run_rtcheck("sweep", "--help")
    assert proc.returncode == 0 and "--patches=auto|all|none" in proc.stdout
    assert "--patch-from" in proc.stdout
