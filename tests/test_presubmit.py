"""Pre-submit mode (docs/presubmit.md): rtcheck diff, baselines, inline
suppressions and install-hook, in a real git repository.

The repository is a copy of kernel/bpf/percpu_freelist.{c,h} of the prepared
6.12 rt tree, laid out like the tree; rtcheck checks its files with the build
directory's kbuild flags for the same paths (the git tree is layered in
front of the build's source tree). ___pcpu_freelist_push() takes
raw_spin_lock(&head->lock): a kmalloc() added under it is an rt-atomic-sleep
finding on PREEMPT_RT.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import RTCHECK, run_rtcheck

C = "kernel/bpf/percpu_freelist.c"
H = "kernel/bpf/percpu_freelist.h"
RULE = "rt-atomic-sleep"
ERR = "rtcheck: error: "
LOCK = "\traw_spin_lock(&head->lock);\n\tpcpu_freelist_push_node(head, node);\n"
KMALLOC = "\tnode->next = kmalloc(sizeof(*node), GFP_ATOMIC);\n"
TOTAL = re.compile(r"^total: (\d+) errors, (\d+) warnings(, (\d+) notes)?$")


class Repo:
    def __init__(self, path, build):
        self.path = str(path)
        self.build = build

    def git(self, *args, **kw):
        return subprocess.run(["git", "-C", self.path, *args], check=True,
                              capture_output=True, text=True, **kw).stdout

    def read(self, rel=C):
        with open(os.path.join(self.path, rel)) as f:
            return f.read()

    def write(self, text, rel=C):
        with open(os.path.join(self.path, rel), "w") as f:
            f.write(text)

    def edit(self, old, new, rel=C):
        text = self.read(rel)
        assert old in text, old
        self.write(text.replace(old, new, 1), rel)

    def commit(self, msg):
        self.git("commit", "-q", "-a", "-m", msg)

    def rtcheck(self, *args, build=True, **kw):
        extra = ["--build", self.build] if build else []
        n = 2 if args[0] == "baseline" else 1  # after the (sub)command
        return run_rtcheck(*args[:n], *extra, *args[n:], cwd=self.path, **kw)

    def line_of(self, text, rel=C):
        return self.read(rel).splitlines().index(text.rstrip("\n")) + 1


def add_kmalloc(repo):
    """The change under test: an allocation under the raw lock; returns its line."""
    repo.edit('#include "percpu_freelist.h"\n',
              '#include "percpu_freelist.h"\n#include <linux/slab.h>\n')
    repo.edit(LOCK, "\traw_spin_lock(&head->lock);\n" + KMALLOC +
              "\tpcpu_freelist_push_node(head, node);\n")
    return repo.line_of(KMALLOC)


@pytest.fixture
def repo(tmp_path, src_612, rt_build):
    r = Repo(tmp_path / "linux", rt_build)
    for rel in (C, H):
        os.makedirs(os.path.join(r.path, os.path.dirname(rel)), exist_ok=True)
        shutil.copy(os.path.join(src_612, rel), os.path.join(r.path, rel))
    subprocess.run(["git", "init", "-q", r.path], check=True)
    r.git("config", "user.name", "rtcheck test")
    r.git("config", "user.email", "rtcheck@example.invalid")
    r.git("add", ".")
    r.commit("base: kernel/bpf/percpu_freelist.{c,h} of Linux 6.12")
    return r


def findings_of(proc):
    """(file, line, rule) of the text findings."""
    out = []
    for line in proc.stdout.splitlines():
        m = re.match(r"^([^:]+):(\d+):\d+: (error|warning|note): .* \[([\w-]+)\]$", line)
        if m:
            out.append((m.group(1), int(m.group(2)), m.group(4)))
    return out


def total(proc, stream="stdout"):
    last = getattr(proc, stream).splitlines()[-1]
    m = TOTAL.match(last)
    assert m, f"no total line at the end: {last!r}"
    return int(m.group(1)), int(m.group(2)), int(m.group(4) or 0)


def one_error(proc, status, *words):
    lines = proc.stderr.splitlines()
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith(ERR), proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


# --- rtcheck diff -----------------------------------------------------------

def test_commit_adding_kmalloc_under_raw_lock_is_reported(repo):
    line = add_kmalloc(repo)
    repo.commit("bpf: allocate under the freelist lock")
    proc = repo.rtcheck("diff", "HEAD~1..HEAD")
    assert proc.returncode == 0, proc.stderr
    assert findings_of(proc) == [(C, line, RULE)], proc.stdout
    assert f"{C}:{line - 1}:2: note: raw_spin_lock(&head->lock) enters truly atomic" \
        in proc.stdout
    assert total(proc) == (0, 1, 0)
    assert proc.stderr == ""
    werror = repo.rtcheck("diff", "--werror", "HEAD~1..HEAD")
    assert werror.returncode == 1 and findings_of(werror) == findings_of(proc)


def test_unrelated_commit_on_the_same_file_is_not_reported(repo):
    add_kmalloc(repo)
    repo.commit("bpf: allocate under the freelist lock")
    repo.edit("/* Copyright (c) 2016 Facebook\n", "/* Copyright (c) 2016 Facebook\n * Edited.\n")
    repo.edit("void pcpu_freelist_destroy(struct pcpu_freelist *s)\n{\n",
              "void pcpu_freelist_destroy(struct pcpu_freelist *s)\n{\n\tif (!s)\n\t\treturn;\n")
    repo.commit("bpf: unrelated change")
    proc = repo.rtcheck("diff", "--werror", "HEAD~1..HEAD")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert findings_of(proc) == [] and total(proc) == (0, 0, 0)
    # the whole file still has the finding: only the change is judged
    assert [f[2] for f in findings_of(repo.rtcheck("check", C))] == [RULE]


def test_work_tree_index_and_json(repo):
    line = add_kmalloc(repo)
    proc = repo.rtcheck("diff")  # HEAD vs the work tree
    assert findings_of(proc) == [(C, line, RULE)], proc.stdout + proc.stderr
    assert findings_of(repo.rtcheck("diff", "--cached")) == []  # nothing staged
    repo.git("add", C)
    repo.write(repo.read().replace(KMALLOC, ""))  # the work tree drops it again
    assert findings_of(repo.rtcheck("diff")) == []
    cached = repo.rtcheck("diff", "--cached", "--format", "json")
    assert cached.returncode == 0, cached.stderr
    doc = json.loads(cached.stdout)
    assert [(f["file"], f["line"], f["rule"]) for f in doc["findings"]] == [(C, line, RULE)]
    assert doc["findings"][0]["function"] == "___pcpu_freelist_push"
    assert TOTAL.match(cached.stderr.strip()), cached.stderr  # stdout stays JSON
    sarif = json.loads(repo.rtcheck("diff", "--cached", "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [RULE]
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == line


def test_patch_on_stdin(repo):
    line = add_kmalloc(repo)
    repo.commit("bpf: allocate under the freelist lock")
    patch = repo.git("format-patch", "-1", "--stdout", "HEAD")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    proc = repo.rtcheck("diff", "-", input=patch)
    assert proc.returncode == 0, proc.stderr
    assert findings_of(proc) == [(C, line, RULE)]
    assert repo.read().count("kmalloc") == 0  # the tree is left alone
    one_error(repo.rtcheck("diff", "-", input=patch.replace("raw_spin_lock(&head->lock);\n",
                                                            "raw_spin_lock(&nope);\n")),
              3, "does not apply")


def test_changed_header_checks_the_tus_including_it(repo):
    # kbuild's record of percpu_freelist.c lists the header once it was checked
    assert repo.rtcheck("check", C).returncode == 0
    repo.edit("#define __PERCPU_FREELIST_H__\n",
              "#define __PERCPU_FREELIST_H__\n#error rtcheck test: header seen\n", rel=H)
    proc = repo.rtcheck("diff", "--max-tus", "1")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    errors = [l for l in proc.stderr.splitlines() if l.startswith(ERR)]
    assert len(errors) == 1 and "percpu_freelist.c" in errors[0] and \
        "header seen" in errors[0], proc.stderr
    none = repo.rtcheck("diff", "--max-tus", "0")
    assert none.returncode == 0, none.stderr
    assert re.search(r"rtcheck: note: \d+ more TUs .* include the changed headers", none.stderr)


# --- baselines --------------------------------------------------------------

def test_baseline_hides_old_findings_across_line_moves(repo, tmp_path):
    add_kmalloc(repo)
    repo.commit("bpf: allocate under the freelist lock")
    baseline = str(tmp_path / "baseline.json")
    save = repo.rtcheck("baseline", "save", "--out", baseline, C)
    assert save.returncode == 0, save.stderr
    with open(baseline) as f:
        doc = json.load(f)
    assert doc["format"] == "rtcheck-baseline-1"
    assert [(e["rule"], e["file"], e["function"], e["snippet"]) for e in doc["findings"]] == \
        [(RULE, C, "___pcpu_freelist_push",
          "node->next = kmalloc(sizeof(*node), GFP_ATOMIC);")]

    # Lines move (inserted above) and the lock line is touched, so the old
    # finding's chain passes through the change: reported without the baseline.
    repo.edit('#include <linux/slab.h>\n',
              '#include <linux/slab.h>\n\n/* three */\n/* more */\n/* lines */\n')
    repo.edit("\traw_spin_lock(&head->lock);\n" + KMALLOC,
              "\traw_spin_lock(&head->lock);\t/* the freelist lock */\n" + KMALLOC)
    line = repo.line_of(KMALLOC)
    assert findings_of(repo.rtcheck("diff")) == [(C, line, RULE)]
    hidden = repo.rtcheck("diff", "--werror", "--baseline", baseline)
    assert hidden.returncode == 0 and findings_of(hidden) == [], hidden.stdout
    assert findings_of(repo.rtcheck("check", "--baseline", baseline, C)) == []

    # a new finding of the same kind elsewhere is still new
    repo.edit("\tif (!raw_spin_trylock(&s->extralist.lock))\n\t\treturn false;\n",
              "\tif (!raw_spin_trylock(&s->extralist.lock))\n\t\treturn false;\n"
              "\tnode->next = kmalloc(sizeof(*node), GFP_ATOMIC);\n")
    new = repo.rtcheck("diff", "--baseline", baseline)
    assert [f[2] for f in findings_of(new)] == [RULE] and findings_of(new)[0][1] != line

    # baseline save --diff: the TUs of a change, all their findings
    save = repo.rtcheck("baseline", "save", "--diff", "HEAD~1..HEAD")
    assert save.returncode == 0 and json.loads(save.stdout)["findings"][0]["rule"] == RULE


def test_bad_baseline(repo, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"findings": []}\n')
    one_error(repo.rtcheck("diff", "--baseline", str(bad)), 3, "not an rtcheck baseline")
    one_error(repo.rtcheck("check", "--baseline", str(tmp_path / "none.json"), C), 3,
              "none.json")


# --- inline suppressions ----------------------------------------------------

def suppress(repo, comment):
    repo.edit(KMALLOC, f"\t{comment}\n" + KMALLOC)


def test_suppression_with_a_reason_hides(repo):
    add_kmalloc(repo)
    suppress(repo, "/* rtcheck: ignore rt-atomic-sleep: bounded, runs only at boot */")
    for proc in (repo.rtcheck("diff", "--werror"), repo.rtcheck("check", "--werror", C)):
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert findings_of(proc) == []
    # on the finding's own line too
    repo.edit(KMALLOC + "", KMALLOC.rstrip("\n") + " // rtcheck: ignore rt-atomic-sleep: boot\n")
    repo.edit("\t/* rtcheck: ignore rt-atomic-sleep: bounded, runs only at boot */\n", "")
    assert findings_of(repo.rtcheck("diff")) == []


def test_suppression_without_a_reason_is_an_error(repo):
    line = add_kmalloc(repo)
    suppress(repo, "/* rtcheck: ignore rt-atomic-sleep */")
    proc = repo.rtcheck("diff", "--werror")
    assert proc.returncode == 1, proc.stderr
    assert findings_of(proc) == [(C, line, "rtcheck-ignore-invalid"), (C, line + 1, RULE)]
    assert "error: suppression of rt-atomic-sleep without a reason" in proc.stdout
    assert total(proc) == (1, 1, 0)
    repo.edit("/* rtcheck: ignore rt-atomic-sleep */", "/* rtcheck: ignore rt-no-such: why */")
    assert "rtcheck-ignore-invalid" in [f[2] for f in findings_of(repo.rtcheck("diff"))]


def test_unused_suppression_is_reported(repo):
    repo.edit("void pcpu_freelist_destroy(struct pcpu_freelist *s)\n",
              "/* rtcheck: ignore rt-atomic-sleep: stale */\n"
              "void pcpu_freelist_destroy(struct pcpu_freelist *s)\n")
    line = repo.line_of("/* rtcheck: ignore rt-atomic-sleep: stale */")
    proc = repo.rtcheck("diff", "--werror")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a note does not fail
    assert findings_of(proc) == [(C, line, "rtcheck-ignore-unused")]
    assert total(proc) == (0, 0, 1)
    # not when its rule is not checked
    assert findings_of(repo.rtcheck("check", "--rules", "rt-percpu-bh", C)) == []


# --- install-hook -----------------------------------------------------------

def hook_path(repo, name="pre-commit"):
    return os.path.join(repo.path, ".git", "hooks", name)


def try_commit(repo):
    return subprocess.run(["git", "-C", repo.path, "commit", "-q", "-a", "-m", "change"],
                          capture_output=True, text=True)


def test_hook_blocks_only_with_werror(repo):
    add_kmalloc(repo)
    head = repo.git("rev-parse", "HEAD")
    proc = repo.rtcheck("install-hook", "--werror")
    assert proc.returncode == 0, proc.stderr
    blocked = try_commit(repo)
    assert blocked.returncode != 0
    assert f"[{RULE}]" in blocked.stdout + blocked.stderr
    assert repo.git("rev-parse", "HEAD") == head
    assert repo.rtcheck("install-hook").returncode == 0  # ours: replaced
    passed = try_commit(repo)
    assert passed.returncode == 0, passed.stderr
    assert f"[{RULE}]" in passed.stdout + passed.stderr  # still reported
    assert repo.git("rev-parse", "HEAD") != head


def test_hook_install_uninstall_force(repo):
    foreign = "#!/bin/sh\necho foreign hook\n"
    with open(hook_path(repo), "w") as f:
        f.write(foreign)
    one_error(repo.rtcheck("install-hook", build=False), 3, "not installed by rtcheck", "--force")
    assert open(hook_path(repo)).read() == foreign
    one_error(repo.rtcheck("install-hook", "--uninstall", build=False), 3, "not installed by rtcheck")
    assert open(hook_path(repo)).read() == foreign

    assert repo.rtcheck("install-hook", "--force").returncode == 0
    text = open(hook_path(repo)).read()
    assert "# rtcheck-hook: installed by rtcheck install-hook" in text
    assert "diff" in text and "--cached" in text and "--werror" not in text
    assert os.access(hook_path(repo), os.X_OK)
    assert open(hook_path(repo) + ".rtcheck-orig").read() == foreign
    proc = repo.rtcheck("install-hook", "--uninstall", build=False)
    assert proc.returncode == 0, proc.stderr
    assert open(hook_path(repo)).read() == foreign  # put back
    assert not os.path.exists(hook_path(repo) + ".rtcheck-orig")

    os.unlink(hook_path(repo))
    assert repo.rtcheck("install-hook", "--uninstall", build=False).returncode == 0  # nothing
    assert repo.rtcheck("install-hook", "--pre-push", "--werror").returncode == 0
    text = open(hook_path(repo, "pre-push")).read()
    assert "rtcheck-hook" in text and "--werror" in text and "while read" in text
    assert not os.path.exists(hook_path(repo))
    assert repo.rtcheck("install-hook", "--pre-push", "--uninstall", build=False).returncode == 0
    assert not os.path.exists(hook_path(repo, "pre-push"))


# --- bad input --------------------------------------------------------------

def test_not_a_git_repository(tmp_path, rt_build):
    one_error(run_rtcheck("diff", cwd=str(tmp_path)), 3, "not a git work tree")
    # the build's source tree is no git tree either
    one_error(run_rtcheck("diff", "--build", rt_build, cwd=str(tmp_path)), 3,
              "not a git work tree")
    one_error(run_rtcheck("install-hook", str(tmp_path)), 3, "not a git work tree")


@pytest.mark.parametrize("rev,word", [("no-such-rev", "not a commit"),
                                      ("no-such..HEAD", "not a range"),
                                      ("HEAD..no-such", "not a range")])
def test_bad_revision(repo, rev, word):
    one_error(repo.rtcheck("diff", rev), 3, rev, word)


@pytest.mark.parametrize("args,word", [
    (["diff", "--frobnicate"], "--frobnicate"),
    (["diff", "--cached", "HEAD~1..HEAD"], "--cached"),
    (["diff", "--cached", "-"], "--cached"),
    (["diff", "HEAD", "HEAD~1"], "one revision"),
    (["diff", "--max-tus", "many"], "--max-tus"),
    (["diff", "--format", "xml"], "xml"),
    (["diff", "--build"], "--build"),
    (["baseline"], "no subcommand"),
    (["baseline", "load"], "load"),
    (["baseline", "save", "--werror", C], "--werror"),
    (["install-hook", "--frobnicate"], "--frobnicate"),
    (["install-hook", "a", "b"], "one tree"),
])
def test_usage_errors(repo, args, word):
    one_error(run_rtcheck(*args, cwd=repo.path), 2, word)
