"""rt-bpf-preempt's local_lock_t suggestion on Linux 6.1's seg6 (benchmark
B18): input_action_end_bpf() runs the program under preempt_disable() and
fills the per-CPU seg6_bpf_srh_states that the bpf_lwt_seg6_*() helpers of
net/core/filter.c use. The suggestion is one diff of three files (the struct
in include/net/seg6_local.h, the section and the DEFINE_PER_CPU() in
seg6_local.c, the helpers in filter.c found by a bounded search of net/); it
applies to copies of the three files, the patched files compile with the
6.1 kbuild flags and re-check clean, and the functions it changes are those
of upstream's conversion (6.11, d1542d4ae4df, read from the 6.12 tree) with
local_lock() for the local_lock_nested_bh() 6.1 lacks."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, prepared_tree
from rtfixtures import kbuild_flags

TOOL = os.path.join(REPO, "build", "rtcheck-clang")
TU = "net/ipv6/seg6_local.c"
HEADER = "include/net/seg6_local.h"
HELPERS = "net/core/filter.c"
FILES = [HEADER, HELPERS, TU]
DEFINE = "DEFINE_PER_CPU(struct seg6_bpf_srh_state, seg6_bpf_srh_states);\n"


@pytest.fixture(scope="module")
def src61():
    return prepared_tree("6.1", "nort", src=True)


@pytest.fixture(scope="module")
def src612():
    return prepared_tree("6.12", "rt", src=True)


def copy_tree(src, dst, files=FILES):
    for rel in files:
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        shutil.copy(os.path.join(src, rel), os.path.join(dst, rel))


def check(root, tu=TU, tree="6.1-nort"):
    """rtcheck on root/tu with the tree's kbuild flags, root/include first
    (its copy of the header is the one the TU sees), root as kernel root."""
    build, src, args = kbuild_flags(tree, tu)
    out = os.path.join(root, "findings.json")
    proc = subprocess.run([TOOL, "--format=json", f"--output={out}", "--rules=rt-bpf-preempt",
                           f"--root={root}", "--", "-I", os.path.join(root, "include"), *args,
                           os.path.join(root, tu)],
                          cwd=build, capture_output=True, text=True)
    findings = json.load(open(out))["findings"] if os.path.exists(out) else []
    return proc, findings


def compile_errors(root, tu, tree="6.1-nort"):
    """clang-16 -fsyntax-only on root/tu with kbuild's flags: its diagnostics."""
    build, src, args = kbuild_flags(tree, tu)
    args = [a for a in args if a != "-E" and not a.startswith("-Wp,")]
    proc = subprocess.run(["clang-16", "-fsyntax-only", "-I", os.path.join(root, "include"),
                           *args, os.path.join(root, tu)], cwd=build, capture_output=True,
                          text=True)
    return proc.returncode, proc.stderr


def diff_files(diff):
    return sorted(re.findall(r"^\+\+\+ b/(\S+)$", diff, re.M))


@pytest.fixture(scope="module")
def suggestion(src61, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("seg6"))
    copy_tree(src61, root)
    proc, findings = check(root)
    assert proc.returncode == 0, proc.stderr
    assert [f["function"] for f in findings] == ["input_action_end_bpf"], findings
    return root, findings[0]


def test_a_three_file_suggestion(suggestion):
    _, f = suggestion
    fix = f["fix"]
    assert fix["kind"] == "suggestion", fix["summary"]
    assert diff_files(fix["diff"]) == FILES
    summary = fix["summary"]
    for part in ["bh_lock member in struct seg6_bpf_srh_state (include/net/seg6_local.h)",
                 "INIT_LOCAL_LOCK() in its DEFINE_PER_CPU() (net/ipv6/seg6_local.c)",
                 "this kernel has no local_lock_nested_bh()",
                 "lockdep_assert_held() in seg6_bpf_has_valid_srh()",
                 "lockdep_assert_held() in net/core/filter.c: bpf_lwt_seg6_store_bytes(), "
                 "bpf_update_srh_state(), bpf_lwt_seg6_action(), bpf_lwt_seg6_adjust_srh()",
                 "searched net/", "the comment above the section", "A patch of 3 files"]:
        assert part in summary, summary


def test_patch_applies_compiles_and_rechecks_clean(suggestion, tmp_path):
    root, f = suggestion
    work = str(tmp_path / "patched")
    copy_tree(root, work)
    subprocess.run(["git", "apply", "--check", "-"], input=f["fix"]["diff"], text=True,
                   cwd=work, check=True)
    subprocess.run(["git", "apply", "-"], input=f["fix"]["diff"], text=True, cwd=work,
                   check=True)
    for tu in (TU, HELPERS):
        status, err = compile_errors(work, tu)
        assert status == 0 and "warning:" not in err, f"{tu}:\n{err}"
    proc, after = check(work)
    assert proc.returncode == 0, proc.stderr
    assert after == [], [a["message"][:100] for a in after]
    # The copies compile because the patched header is the one they see:
    # with the original header, filter.c does not.
    shutil.copy(os.path.join(root, HEADER), os.path.join(work, HEADER))
    status, err = compile_errors(work, HELPERS)
    assert status != 0 and "no member named 'bh_lock'" in err


def function(text, name):
    """The definition of name (a function, BPF_CALL_x() or struct), from its
    first line to its closing brace."""
    m = re.search(r"^(?:\w[^\n;]*\b%s\(|BPF_CALL_\d\(%s,|struct %s \{)[^\n]*\n(?:.*\n)*?\}"
                  % ((re.escape(name),) * 3), text, re.M)
    assert m, f"no definition of {name}"
    return m[0]


def normalized(code):
    """Without comments and blank lines, with 6.11's nested-BH lock names
    as local_lock(): what the 6.1 suggestion can be compared with."""
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    code = code.replace("local_lock_nested_bh(", "local_lock(")
    code = code.replace("local_unlock_nested_bh(", "local_unlock(")
    return [l.rstrip() for l in code.split("\n") if l.strip()]


def test_patch_is_upstreams_conversion(suggestion, src612, tmp_path):
    """Every definition the suggestion changes is 6.12's (upstream's 6.11
    conversion), comments, blank lines and the lock's name aside, but
    bpf_update_srh_state(), where rtcheck asserts the lock too: a static
    helper whose callers upstream asserted it in instead."""
    root, f = suggestion
    work = str(tmp_path / "patched")
    copy_tree(root, work)
    subprocess.run(["git", "apply", "-"], input=f["fix"]["diff"], text=True, cwd=work,
                   check=True)
    changed = {
        HEADER: ["seg6_bpf_srh_state"],
        TU: ["seg6_bpf_has_valid_srh", "input_action_end_bpf"],
        HELPERS: ["bpf_lwt_seg6_store_bytes", "bpf_lwt_seg6_action",
                  "bpf_lwt_seg6_adjust_srh"],
    }
    for rel, names in changed.items():
        mine, upstream = open(os.path.join(work, rel)).read(), open(os.path.join(src612, rel)).read()
        for name in names:
            assert normalized(function(mine, name)) == normalized(function(upstream, name)), name
    mine = open(os.path.join(work, TU)).read()
    upstream = open(os.path.join(src612, TU)).read()
    define = re.compile(r"^DEFINE_PER_CPU\(struct seg6_bpf_srh_state.*?;$", re.M | re.S)
    assert define.search(mine)[0] == define.search(upstream)[0]
    extra = normalized(function(open(os.path.join(work, HELPERS)).read(), "bpf_update_srh_state"))
    orig = normalized(function(open(os.path.join(src612, HELPERS)).read(), "bpf_update_srh_state"))
    assert [l for l in extra if l not in orig] == ["\tlockdep_assert_held(&srh_state->bh_lock);"]


def test_define_in_another_file_is_found_there(src61, tmp_path):
    """With the DEFINE_PER_CPU() moved to filter.c (another TU), the search
    finds it there and the patch initialises it in that file."""
    root = str(tmp_path)
    copy_tree(src61, root)
    tu = os.path.join(root, TU)
    text = open(tu).read()
    assert DEFINE in text
    open(tu, "w").write(text.replace(DEFINE, ""))
    with open(os.path.join(root, HELPERS), "a") as helpers:
        helpers.write("\n" + DEFINE)
    proc, findings = check(root)
    assert proc.returncode == 0, proc.stderr
    fix = findings[0]["fix"]
    assert fix["kind"] == "suggestion"
    assert "INIT_LOCAL_LOCK() in its DEFINE_PER_CPU() (net/core/filter.c)" in fix["summary"]
    assert "+DEFINE_PER_CPU(struct seg6_bpf_srh_state, seg6_bpf_srh_states) = {\n" \
           "+\t.bh_lock\t= INIT_LOCAL_LOCK(bh_lock),\n+};\n" in fix["diff"]


def test_what_is_not_found_is_said(src61, tmp_path):
    """Without filter.c and with no DEFINE_PER_CPU() anywhere, the patch has
    the struct and the section, and the summary says what it did not find."""
    root = str(tmp_path)
    copy_tree(src61, root, [HEADER, TU])
    tu = os.path.join(root, TU)
    text = open(tu).read()
    open(tu, "w").write(text.replace(DEFINE, ""))
    proc, findings = check(root)
    assert proc.returncode == 0, proc.stderr
    fix = findings[0]["fix"]
    assert fix["kind"] == "suggestion" and diff_files(fix["diff"]) == [HEADER, TU]
    assert "the DEFINE_PER_CPU() of seg6_bpf_srh_states was not found" in fix["summary"]
    assert "net/core/filter.c" not in fix["summary"]
