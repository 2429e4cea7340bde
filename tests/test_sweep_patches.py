"""`rtcheck sweep` writes its fixes as git format-patch series under OUT/patches/
(docs/sweep.md "Patch series"), checked on findings of the reference trees:

- two per-CPU backlogs of one struct, private to a file the test writes into
  the 6.12 tree's kernel/ and sweeps through a compilation database: two
  rt-percpu-bh `auto` fixes that both add the lock to struct rtcheck_backlog:
  the second patch leaves that out and is made on top of the first;
- two per-CPU objects other files may use, in a file the test writes into
  kernel/bpf/: two rt-percpu-bh suggestions in one file (the second patch is
  made on top of the first), only with --patches=all;
- 6.1's net/core/sock_map.c: two rt-atomic-sleep suggestions (raw_spinlock_t ->
  spinlock_t, as upstream did later), the first of them fixing three findings.

Each series is applied with git am to a clean repository holding copies of the
files it touches and must give one commit per patch with the expected subjects
and author, each patch being what git format-patch writes for its commit; each
patched file must compile with kbuild's exact flags on the trees that build it
and no longer have the findings the series fixes."""
import glob
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
SOFTIRQ = "kernel/softirq.c"
SOCK_MAP = "net/core/sock_map.c"
# Written into the 6.12 tree for the module (series_tus): per-process names.
BACKLOG = f"kernel/rtcheck_series_backlog_{os.getpid()}.c"
SCRATCH = f"kernel/bpf/rtcheck_series_scratch_{os.getpid()}.c"
ADA = "Ada Lovelace <ada@example.org>"
ZOE = "Zoë Example <zoe@example.org>"
NOBODY = "rtcheck <rtcheck@localhost>"  # no --patch-from, no git user
# series directory: (sweep, tree, file, subjects, trees it must compile on, From:)
SERIES = {
    "kernel": ("default", "6.12-rt", BACKLOG,
               ["kernel: Use nested-BH locking for rx_backlog",
                "kernel: Use nested-BH locking for tx_backlog"],
               ["6.12-rt", "6.12-nort"], NOBODY),
    "bpf": ("all", "6.12-rt", SCRATCH,
            ["bpf: Use nested-BH locking for rtcheck_scratch",
             "bpf: Use nested-BH locking for rtcheck_regs"], ["6.12-rt", "6.12-nort"], ADA),
    "bpf-sockmap": ("sockmap", "6.1-nort", SOCK_MAP,
                    ["bpf, sockmap: Make stab->lock a spinlock_t",
                     "bpf, sockmap: Make bucket->lock a spinlock_t"], ["6.1-nort"], ZOE),
}

# Per-CPU data serialised by disabled BH alone, as net/ and kernel/ have it:
# a list and its length, changed in a BH section.
BACKLOG_SOURCE = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/bottom_half.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/local_lock.h>
#include <linux/percpu.h>

struct rtcheck_backlog {
\tstruct list_head list;
\tunsigned int len;
};

static DEFINE_PER_CPU(struct rtcheck_backlog, rx_backlog);
static DEFINE_PER_CPU(struct rtcheck_backlog, tx_backlog);

void rtcheck_rx_enqueue(struct list_head *item);
void rtcheck_tx_enqueue(struct list_head *item);

void rtcheck_rx_enqueue(struct list_head *item)
{
\tstruct rtcheck_backlog *b;

\tlocal_bh_disable();
\tb = this_cpu_ptr(&rx_backlog);
\tlist_add_tail(item, &b->list);
\tb->len++;
\tlocal_bh_enable();
}

void rtcheck_tx_enqueue(struct list_head *item)
{
\tstruct rtcheck_backlog *b;

\tlocal_bh_disable();
\tb = this_cpu_ptr(&tx_backlog);
\tlist_add_tail(item, &b->list);
\tb->len++;
\tlocal_bh_enable();
}
"""

# Scratch state of BPF helpers, visible to other files: suggestions. The
# objects are apart, so that each fix diff also applies after the other.
SCRATCH_SOURCE = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/bottom_half.h>
#include <linux/spinlock.h>
#include <linux/local_lock.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <linux/types.h>

struct rtcheck_scratch {
\tu8 buf[64];
\tunsigned int len;
};

DEFINE_PER_CPU(struct rtcheck_scratch, rtcheck_scratch);

void rtcheck_fill_scratch(const void *data, unsigned int len);

void rtcheck_fill_scratch(const void *data, unsigned int len)
{
\tstruct rtcheck_scratch *s;

\tlocal_bh_disable();
\ts = this_cpu_ptr(&rtcheck_scratch);
\tmemcpy(s->buf, data, min_t(unsigned int, len, sizeof(s->buf)));
\ts->len = len;
\tlocal_bh_enable();
}

/* The registers of the last call, for a later helper. */
void rtcheck_save_regs(unsigned long ip, unsigned long sp);

struct rtcheck_regs {
\tunsigned long ip;
\tunsigned long sp;
};

DEFINE_PER_CPU(struct rtcheck_regs, rtcheck_regs);

void rtcheck_save_regs(unsigned long ip, unsigned long sp)
{
\tstruct rtcheck_regs *r;

\tlocal_bh_disable();
\tr = this_cpu_ptr(&rtcheck_regs);
\tr->ip = ip;
\tr->sp = sp;
\tlocal_bh_enable();
}
"""


def src_of(tree):
    return prepared_tree(*tree.split("-", 1), src=True)


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


def sweep(tmp, tree, paths, *opts, gitconfig=None):
    out = str(tmp / "out")
    proc = run_rtcheck("sweep", "--build", prepared_tree(*tree.split("-", 1)), "--out", out,
                       *opts, *paths, env=git_env(tmp, gitconfig), cwd=str(tmp))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return out


def remove_tu(tu):
    """A written file and kbuild's records of it in every prepared 6.12 build."""
    base = os.path.splitext(tu)[0]
    paths = [os.path.join(src_of("6.12-rt"), tu)]
    for config in ("rt", "nort"):
        build = prepared_tree("6.12", config)
        paths += glob.glob(os.path.join(build, base + ".*"))
        paths += glob.glob(os.path.join(build, os.path.dirname(tu),
                                        "." + os.path.basename(base) + ".*"))
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


@pytest.fixture(scope="module")
def series_tus(tmp_path_factory):
    """Writes BACKLOG and SCRATCH into the 6.12 tree; yields a compilation
    database for them with kbuild's flags (those of kernel/softirq.c)."""
    src = src_of("6.12-rt")
    build, _, args = kbuild_flags("6.12-rt", SOFTIRQ)
    entries = []
    for tu, text in ((BACKLOG, BACKLOG_SOURCE), (SCRATCH, SCRATCH_SOURCE)):
        with open(os.path.join(src, tu), "w") as f:
            f.write(text)
        entries.append({"directory": build, "file": os.path.join(src, tu),
                        "arguments": ["clang-16", *args, os.path.join(src, tu)]})
    db = tmp_path_factory.mktemp("ccdb") / "compile_commands.json"
    db.write_text(json.dumps(entries))
    yield str(db)
    for tu in (BACKLOG, SCRATCH):
        remove_tu(tu)


@pytest.fixture(scope="module")
def outs(tmp_path_factory, series_tus):
    """The three sweeps, {name: OUT}. default: --patches left out, over the
    stale series of an earlier run; all: git config's user; sockmap: --patch-from
    (which wins over git config)."""
    stale = tmp_path_factory.mktemp("default")
    os.makedirs(stale / "out" / "patches" / "old")
    (stale / "out" / "patches" / "old" / "0001-old.patch").write_text("old\n")
    (stale / "out" / "patches" / "series").write_text("old/0001-old.patch\n")
    return {
        "default": sweep(stale, "6.12-rt", [BACKLOG, SCRATCH], "--compile-commands", series_tus),
        "all": sweep(tmp_path_factory.mktemp("all"), "6.12-rt", [SCRATCH], "--patches=all",
                     "--compile-commands", series_tus, gitconfig=ADA),
        "sockmap": sweep(tmp_path_factory.mktemp("sockmap"), "6.1-nort", [SOCK_MAP],
                         "--patches", "all", "--patch-from", ZOE, gitconfig=ADA),
    }


def out_of(outs, name):
    return outs[SERIES[name][0]]


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
    out = out_of(outs, "bpf")
    assert sorted(os.listdir(os.path.join(out, "patches"))) == ["bpf", "series"]
    names = [os.path.basename(p) for p in series_files(out, "bpf")]
    assert names == ["0001-bpf-Use-nested-BH-locking-for-rtcheck_scratch.patch",
                     "0002-bpf-Use-nested-BH-locking-for-rtcheck_regs.patch"]
    assert sorted(os.listdir(os.path.join(out, "patches", "bpf"))) == \
        ["0000-cover-letter.patch", *names, "series"]
    top = open(os.path.join(out, "patches", "series")).read().split()
    assert top == [f"bpf/{n}" for n in names]


def test_auto_by_default(outs):
    """Without --patches only the auto fixes (BACKLOG) are patches, not the
    suggestions (SCRATCH); the stale series of an earlier run is gone."""
    out = outs["default"]
    kinds = {(f["file"], f["fix"]["kind"]) for f in findings(out) if f["fix"].get("diff")}
    assert kinds == {(BACKLOG, "auto"), (SCRATCH, "suggestion")}
    assert sorted(os.listdir(os.path.join(out, "patches"))) == ["kernel", "series"]
    top = open(os.path.join(out, "patches", "series")).read().split()
    assert top == ["kernel/" + os.path.basename(p) for p in series_files(out, "kernel")]


@pytest.mark.parametrize("name", SERIES)
def test_headers(outs, name):
    want, sender = SERIES[name][3], SERIES[name][5]
    encoded = "=?UTF-8?q?Zo=C3=AB_Example?= <zoe@example.org>" if sender == ZOE else sender
    for n, patch in enumerate(series_files(out_of(outs, name), name), 1):
        text = open(patch).read()
        head = text.split("\n\n", 1)[0] + "\n"
        assert text.startswith(MBOX)
        assert f"\nFrom: {encoded}\n" in head
        assert "\nDate: Wed, 1 Jan 2025 12:00:00 +0000\n" in head
        assert f"\nSubject: [PATCH {n}/{len(want)}] {want[n - 1]}\n" in head
        assert re.search(r"\n---\n \S+ +\| +\d+ \+*-*\n 1 file changed, .*\n\ndiff --git ",
                         text), patch
        assert re.search(r"\n-- \nrtcheck \S+\n\n\Z", text), text[-100:]


def git(repo, *args, env=None):
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture(scope="module")
def applied(outs, tmp_path_factory):
    """{series: (repo, patches, env)}: git am of each series on a clean
    repository with copies of the files its patches touch."""
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org")
    result = {}
    for name in SERIES:
        patches = series_files(out_of(outs, name), name)
        src = src_of(SERIES[name][1])
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
def test_git_am_applies_the_series(applied, name):
    repo, patches, env = applied[name]
    want, sender = SERIES[name][3], SERIES[name][5]
    log = git(repo, "log", "--reverse", "--format=%an <%ae>|%s", env=env).splitlines()
    assert [line.split("|", 1)[1] for line in log] == ["base", *want]
    assert {line.split("|", 1)[0] for line in log[1:]} == {sender}
    # Each patch is git's own form of its commit: diffstat, hunks, function lines.
    for n, patch in enumerate(patches, 1):
        theirs = git(repo, "format-patch", "-1", "--stdout", "--no-signature",
                     f"HEAD~{len(patches) - n}", env=env)
        theirs = re.sub(r"^index .*\n", "", theirs.split("\n---\n", 1)[1], flags=re.M)
        mine = open(patch).read().split("\n---\n", 1)[1].rsplit("\n-- \n", 1)[0]
        assert mine + "\n" == theirs.rsplit("-- \n", 1)[0], patch


@pytest.mark.parametrize("name", ["bpf", "bpf-sockmap"])
def test_series_ends_where_the_fix_diffs_do(outs, applied, tmp_path, name):
    """Where the fix diffs of findings.json apply one after another (git apply
    finds each hunk where the ones before moved it), the series ends there too."""
    repo, _, env = applied[name]
    tree, tu = SERIES[name][1:3]
    os.makedirs(tmp_path / os.path.dirname(tu))
    shutil.copy(os.path.join(src_of(tree), tu), tmp_path / tu)
    diffs = []
    for f in findings(out_of(outs, name)):
        if f["fix"].get("diff") and f["fix"]["diff"] not in diffs:
            diffs.append(f["fix"]["diff"])
    assert len(diffs) == 2
    for d in diffs:
        (tmp_path / "fix.diff").write_text(d)
        git(tmp_path, "apply", "fix.diff", env=env)
    assert open(repo / tu).read() == open(tmp_path / tu).read()


def test_a_change_two_conversions_share_is_made_once(outs, applied):
    """Both BACKLOG fixes add bh_lock to struct rtcheck_backlog: patch 1 does,
    patch 2 says so and initialises only its own variable's lock."""
    repo, patches, _ = applied["kernel"]
    member = "\tlocal_lock_t bh_lock;\n"
    fixes = [f["fix"]["diff"] for f in findings(outs["default"]) if f["file"] == BACKLOG]
    assert len(fixes) == 2 and all("+" + member in d for d in fixes)
    first, second = (open(p).read() for p in patches)
    assert "\n+" + member in first and "\n+" + member not in second
    assert "Patch 1/2 of this series already makes part of this conversion" in second
    text = open(repo / BACKLOG).read()
    assert text.count(member) == 1
    for var in ("rx_backlog", "tx_backlog"):
        assert f"DEFINE_PER_CPU(struct rtcheck_backlog, {var}) = {{\n" \
               "\t.bh_lock = INIT_LOCAL_LOCK(bh_lock),\n};\n" in text
        assert f"\tlocal_lock_nested_bh(&{var}.bh_lock);\n" in text


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
    tree, tu, _, trees = SERIES[name][1:5]
    assert open(repo / tu).read() != open(os.path.join(src_of(tree), tu)).read()
    for t in trees:
        proc = compile_file(t, tu, repo / tu)
        assert proc.returncode == 0, f"{t}: {proc.stderr[-3000:]}"


def test_a_broken_file_does_not_compile(tmp_path):
    """compile_file() reports what the kernel's flags refuse (-Werror)."""
    broken = tmp_path / "softirq.c"
    broken.write_text(open(os.path.join(src_of("6.12-rt"), SOFTIRQ)).read() +
                      "\nint rtcheck_unused_function(void) { return 0; }\n")
    assert compile_file("6.12-rt", SOFTIRQ, broken).returncode != 0


@pytest.mark.parametrize("name", SERIES)
def test_patched_file_has_no_finding_left(outs, applied, name):
    repo, _, _ = applied[name]
    tree, tu = SERIES[name][1:3]
    fixed = {(f["rule"], f["function"], f["message"]) for f in findings(out_of(outs, name))
             if f["file"] == tu and f["fix"].get("diff")}
    build, _, args = kbuild_flags(tree, tu)
    out = str(repo / "after.json")
    proc = subprocess.run([TOOL, "--format=json", f"--output={out}", f"--root={repo}", "--",
                           *args, str(repo / tu)], cwd=build, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    left = {(f["rule"], f["function"], f["message"]) for f in json.load(open(out))["findings"]}
    assert len(fixed) >= 2 and not fixed & left, fixed & left


@pytest.mark.parametrize("name", SERIES)
def test_body_names_findings_and_chains(outs, name):
    """A patch lists each finding whose fix is its diff, with its whole chain,
    the rule, the conversion and what it does without PREEMPT_RT."""
    out = out_of(outs, name)
    patches = series_files(out, name)
    by_diff = {}
    for f in findings(out):
        if f["fix"].get("diff") and f["file"] == SERIES[name][2]:
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
        assert ("suggestion of rtcheck" in text) == (fs[0]["fix"]["kind"] == "suggestion")
    if name == "bpf-sockmap":
        assert [len(fs) for fs in by_diff.values()] == [3, 1]
        assert "On !PREEMPT_RT a spinlock_t is a raw_spinlock_t: no functional change." in \
            body(patches[0])


@pytest.mark.parametrize("name", SERIES)
def test_cover_letter(outs, applied, name):
    repo, patches, env = applied[name]
    cover = open(os.path.join(out_of(outs, name), "patches", name,
                              "0000-cover-letter.patch")).read()
    want = SERIES[name][3]
    assert cover.startswith(MBOX)
    prefix = want[0].split(": ", 1)[0]
    assert f"\nSubject: [PATCH 0/{len(want)}] {prefix}: PREEMPT_RT conversions found by " \
           "rtcheck\n" in cover
    shortlog = "".join(f"  {s}\n" for s in want)
    assert f" ({len(want)}):\n{shortlog}\n" in cover
    stat = git(repo, "diff", "--stat=72", "HEAD~%d" % len(patches), "HEAD", env=env)
    assert stat in cover
    counts = "2 automatic, 0 suggestions" if name == "kernel" else "0 automatic, 2 suggestions"
    assert counts in " ".join(cover.split())


@pytest.mark.parametrize("name", SERIES)
def test_checkpatch(outs, name):
    """The kernel's checkpatch.pl finds no error and no warning (the patches
    deliberately carry no Signed-off-by: the sender adds theirs)."""
    for patch in series_files(out_of(outs, name), name):
        proc = subprocess.run(["perl", os.path.join(src_of("6.12-rt"), "scripts",
                                                    "checkpatch.pl"),
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
