"""bench/per-tu and bench/sweep: their argument checks and the parsing they rely
on (kbuild's make -n lines, compile commands, the sweep's outputs), and the exact
restoration of the file bench/sweep edits. Nothing here times anything."""
import importlib.machinery
import importlib.util
import json
import os
import subprocess

import pytest

from conftest import REPO


def load(name):
    path = os.path.join(REPO, "bench", name)
    loader = importlib.machinery.SourceFileLoader("bench_" + name.replace("-", "_"), path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


per_tu = load("per-tu")
sweep = load("sweep")

SRC = "/src/linux"
# One line of `make -n C=2 CHECK=...` as kbuild prints it (shortened flags).
CHECK_LINE = (
    "set -e; exec >/dev/null;   trap 'rm -f kernel/bpf/hashtab.o; trap - HUP; kill -s HUP $$' "
    f"HUP;  {per_tu.M1} -I{SRC}/include -I./include -include {SRC}/include/linux/kconfig.h "
    f"{per_tu.M2} -D__linux__ -Wbitwise --arch=x86 -m64 {per_tu.M3} -D__linux__ -Wbitwise "
    "--arch=x86 -m64 -Wp,-MMD,kernel/bpf/.hashtab.o.d -nostdinc -D__KERNEL__ "
    "--target=x86_64-linux-gnu -DKBUILD_MODFILE='\"kernel/bpf/hashtab\"' "
    f"-DKBUILD_BASENAME='\"hashtab\"' {SRC}/kernel/bpf/hashtab.c; "
    "printf '%s\\n' 'savedcmd_kernel/bpf/hashtab.o := ...' > kernel/bpf/.hashtab.o.cmd")


def test_per_tu_parses_kbuild_check_line():
    include, checkflags, flags, path = per_tu.parse_check_line(CHECK_LINE)
    assert include == [f"-I{SRC}/include", "-I./include", "-include",
                       f"{SRC}/include/linux/kconfig.h"]
    assert checkflags == ["-D__linux__", "-Wbitwise", "--arch=x86", "-m64"]
    assert flags == ["-Wp,-MMD,kernel/bpf/.hashtab.o.d", "-nostdinc", "-D__KERNEL__",
                     "--target=x86_64-linux-gnu", '-DKBUILD_MODFILE="kernel/bpf/hashtab"',
                     '-DKBUILD_BASENAME="hashtab"']
    assert path == f"{SRC}/kernel/bpf/hashtab.c"
    assert per_tu.strip_depfile(flags)[0] == "-nostdinc"
    assert per_tu.parse_check_line("clang-16 -c -o x.o x.c") is None


def test_per_tu_spatch_as_coccicheck():
    include = [f"-I{SRC}/include", "-I./include", "-include", f"{SRC}/include/linux/kconfig.h"]
    assert per_tu.coccicheck_include(include) == [
        "-I", f"{SRC}/include", "-I", "./include", "--include", f"{SRC}/include/linux/kconfig.h"]
    cocci = os.path.join(REPO, "cocci", "rt-atomic-sleep.cocci")
    assert per_tu.cocci_options(cocci) == ["--no-includes", "--include-headers"]
    (cmd,) = per_tu.spatch_commands([cocci], include, "/src/f.c")
    assert cmd[:7] == ["spatch", "-D", "report", "--no-show-diff", "--very-quiet",
                       "--cocci-file", cocci]
    assert cmd[-1] == "/src/f.c"


def test_per_tu_instruction_counts():
    assert per_tu.perf_instructions("<not supported>,,instructions,0,100.00,,\n") is None
    assert per_tu.perf_instructions("123456,,instructions:u,1000,100.00,,\n") == 123456
    assert per_tu.callgrind_instructions("==1== Collected : 10\n==2== Collected : 5\n") == 15
    assert per_tu.callgrind_instructions("nothing") is None


@pytest.mark.parametrize("argv", [["--tools", "smatch"], ["--tools", "sparse,sparse"],
                                  ["--runs", "0"], ["--mem-runs", "0"], ["--warmup", "-1"],
                                  ["--files", "mm/slub.h"], ["--instructions", "cycles"]])
def test_per_tu_rejects(argv):
    with pytest.raises(SystemExit) as e:
        per_tu.parse_args(argv)
    assert e.value.code == 2


def test_per_tu_defaults():
    a = per_tu.parse_args([])
    assert a.files == per_tu.DEFAULT_FILES and "fs/ext4/inode.c" in a.files
    assert a.tools == ["rtcheck", "sparse", "spatch"]
    assert per_tu.parse_args(["--tools", "spatch,rtcheck"]).tools == ["rtcheck", "spatch"]


def test_sweep_syntax_only():
    cmd = ["clang-16", "-Wp,-MMD,kernel/bpf/.core.o.d", "-nostdinc", "-O2", "-c", "-o",
           "kernel/bpf/core.o", f"{SRC}/kernel/bpf/core.c"]
    assert sweep.syntax_only(cmd) == ["clang-16", "-nostdinc", "-O2", "-fsyntax-only", "-w",
                                      f"{SRC}/kernel/bpf/core.c"]
    assert sweep.syntax_only(["clang-16", "-o", "a.o", "-O2", "-c", "a.c"]) == \
        ["clang-16", "-fsyntax-only", "-w", "-O2", "a.c"]
    e = {"directory": "/b", "file": "a.c", "command": "clang-16 -DX='\"y z\"' -c -o a.o a.c"}
    assert sweep.entry_args(e) == ["clang-16", '-DX="y z"', "-c", "-o", "a.o", "a.c"]


def test_sweep_parses_outputs():
    assert sweep.sample(["c.c", "a.c", "b.c", "d.c", "e.c"], 2) == ["a.c", "c.c", "e.c"]
    assert sweep.sample(["b.c", "a.c"], 1) == ["a.c", "b.c"]
    s = sweep.parse_summary("rtcheck: sweep: 12 TUs, 1 analysed, 11 unchanged, 0 failed, "
                            "3 findings (1 across TUs) in 4.2 s: /o/report.txt\n")
    assert s == {"tus": 12, "analysed": 1, "unchanged": 11, "failed": 0, "findings": 3,
                 "xtu": 1, "seconds": 4.2}
    assert sweep.parse_summary("rtcheck: sweep: 1 TUs, 1 analysed, 0 unchanged, 0 failed, "
                               "1 finding (0 across TUs) in 1.0 s: x")["findings"] == 1
    assert sweep.parse_failures("a/b.c: timeout: killed after 300 s\n    tail 1\n"
                                "c/d.c: exit 3: input error (does not compile)\n") == \
        [("a/b.c", "timeout: killed after 300 s"),
         ("c/d.c", "exit 3: input error (does not compile)")]
    rep = ("rtcheck sweep report (rtcheck 0.1.0)\n\ntree:       /s\nbuild:      /b\n"
           "paths:      kernel/bpf/ net/core/dev.c\nTUs:        71 (commands from kbuild)\n"
           "analysed:   71\nunchanged:  5 (results from the facts database)\n"
           "time:       6.1 s wall, 2 jobs, limits per TU: 300 s, 4096 MB\n\n== findings ==\n"
           "paths: not this\n")
    assert sweep.parse_report(rep) == {"paths": ["kernel/bpf", "net/core/dev.c"], "tus": 71,
                                       "unchanged": 5, "seconds": 6.1, "jobs": 2}
    assert sweep.parse_report("paths:      (whole tree)\n")["paths"] is None
    rules, xtu = sweep.findings_per_rule({"findings": [
        {"rule": "rt-atomic-sleep"}, {"rule": "rt-percpu-bh"},
        {"rule": "rt-atomic-sleep", "cross_tu": True}]})
    assert list(rules.items()) == [("rt-atomic-sleep", 2), ("rt-percpu-bh", 1)] and xtu == 1
    assert sweep.parse_meta("src=/s build=/b tool=1.000000002:30 rules=all") == \
        {"src": "/s", "build": "/b", "tool": "1.000000002:30", "rules": "all"}


@pytest.mark.parametrize("argv", [["--sample", "0"], ["--jobs", "0"],
                                  ["--interleave", "--jobs", "2"],
                                  ["--skip-sweep", "/nonexistent"],
                                  ["--edit", "include/linux/sched.h"], ["--timeout", "-1"]])
def test_sweep_rejects(argv):
    with pytest.raises(SystemExit) as e:
        sweep.parse_args(argv)
    assert e.value.code == 2


def test_sweep_skip_sweep_checks(tmp_path):
    done = tmp_path / "done"
    done.mkdir()
    for f in ("report.txt", "compile_commands.json", "findings.json", "rtcheck.db"):
        (done / f).write_text("")
    assert sweep.parse_args(["--skip-sweep", str(done)]).skip_sweep == str(done)
    for argv in (["--paths", "kernel/bpf"], ["--sample", "2"], ["--interleave"],
                 ["--out", str(done)]):
        with pytest.raises(SystemExit):
            sweep.parse_args(["--skip-sweep", str(done), *argv])
    assert sweep.parse_args(["--interleave"]).jobs == 1


def test_sweep_edit_is_restored_exactly(tmp_path):
    src = tmp_path / "f.c"
    src.write_bytes(b"int x;\n\tno newline at the end")
    os.utime(src, ns=(1_600_000_000_123_456_789, 1_500_000_000_987_654_321))
    out = tmp_path / "out"
    out.mkdir()
    sweep.append_edit(str(src), str(out))
    assert src.read_bytes().endswith(sweep.EDIT_LINE)
    assert json.loads((out / sweep.EDIT_RECORD).read_text())["path"] == str(src)
    assert sweep.restore_edit(str(out)) == str(src)
    assert src.read_bytes() == b"int x;\n\tno newline at the end"
    assert os.stat(src).st_mtime_ns == 1_500_000_000_987_654_321
    assert not os.listdir(out)
    assert sweep.restore_edit(str(out)) is None
    # Changed by someone else meanwhile: left alone, with the original kept.
    sweep.append_edit(str(src), str(out))
    src.write_bytes(b"something else\n")
    with pytest.raises(SystemExit):
        sweep.restore_edit(str(out))
    assert (out / "bench-edit.orig").read_bytes() == b"int x;\n\tno newline at the end"


@pytest.mark.parametrize("cmd", [["per-tu", "--tools", "nope"],
                                 ["sweep", "--interleave", "--jobs", "2"]])
def test_cli_usage_errors(cmd):
    res = subprocess.run([os.path.join(REPO, "bench", cmd[0]), *cmd[1:]],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "error:" in res.stderr
