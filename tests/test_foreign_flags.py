"""include/rtcheck/foreign_flags.def against the arguments kbuild really passes to $(CHECK).

kbuild runs `$(CHECK) $(CHECKFLAGS) $(c_flags) file.c` from the O= build dir.
CHECKFLAGS are sparse's (--arch=x86, -Wbitwise, ...) in every build; with a gcc
build the c_flags carry GCC-only options too (-fconserve-stack,
-mindirect-branch=thunk-extern, ...). The table must make
`clang-16 -fsyntax-only -w ARGS` (what rtcheck-clang runs) accept all of them.

The argument lists are recorded, not guessed: a session fixture runs
`make C=2 CHECK=<recorder> <objs>` in the prepared build dirs (6.12-rt with
LLVM=-16 and 6.12-rt-gcc). C=2 re-checks up-to-date objects, so once the objects
exist this takes about a second; the first run builds the six objects.

The gcc tree is prepared on first use (scripts/prepare-tree --config rt --cc gcc:
about 15 s when the 6.12 sources are already unpacked, 35 s from the tarball,
plus the object builds). Set RTCHECK_NO_PREPARE=1 to skip instead of preparing.
"""
import fcntl
import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import REPO

DEF = os.path.join(REPO, "include", "rtcheck", "foreign_flags.def")
PREPARE = os.path.join(REPO, "scripts", "prepare-tree")
CLANG = "clang-16"
TUS = [
    "net/core/skbuff.c",
    "kernel/bpf/stackmap.c",
    "kernel/bpf/hashtab.c",
    "fs/nfs/unlink.c",
    "drivers/md/bcache/request.c",
    "kernel/sched/core.c",
]
ACTIONS = {"DROP", "DROP_PREFIX", "DROP_PAIR", "MAP", "MAP_PREFIX"}


# --- the table and a Python copy of adjustCompilerArgs() ----------------------

_ENTRY = re.compile(r'RTCHECK_FOREIGN_FLAG\(\s*(\w+)\s*,\s*"((?:[^"\\]|\\.)*)"\s*,'
                    r'\s*"((?:[^"\\]|\\.)*)"\s*\)')


def _c_string(s):
    return re.sub(r"\\(.)", r"\1", s)


def load_table(path=DEF):
    """[(action, spelling, replacement)] in file order; anything else than
    comments and entries is an error (the C++ build would reject it too)."""
    with open(path) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    entries = [(a, _c_string(s), _c_string(r)) for a, s, r in _ENTRY.findall(text)]
    rest = _ENTRY.sub(" ", text).strip()
    assert not rest, f"unparsable text in {path}: {rest[:200]!r}"
    return entries


def adjust(args, table):
    """Mirror of rtcheck::adjustCompilerArgs() (checkers/tool/CommandLine.cpp):
    the first matching entry wins; then the tool's own drops of output and
    dependency options (so clang never writes a .o.d file into the build dir)."""
    out = []
    i = 0
    while i < len(args):
        a = args[i]
        dropped, mapped = False, a
        for action, spelling, repl in table:
            if action == "DROP":
                dropped = a == spelling
            elif action == "DROP_PREFIX":
                dropped = a.startswith(spelling)
            elif action == "DROP_PAIR" and a == spelling:
                dropped = True
                i += 1
            elif action == "MAP" and a == spelling:
                mapped = repl
            elif action == "MAP_PREFIX" and a.startswith(spelling):
                mapped = repl + a[len(spelling):]
            if dropped or mapped != a:
                break
        if a in ("-E", "-c", "-S", "-MD", "-MMD") or a.startswith("-Wp,-M"):
            dropped = True
        elif a in ("-o", "-MF", "-MT", "-MQ"):
            dropped = True
            i += 1
        if not dropped:
            out.append(mapped)
        i += 1
    return out


def clang_parse(cwd, args):
    return subprocess.run([CLANG, "-fsyntax-only", "-w", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def touched(args, table):
    """The arguments of args that some table entry drops or maps."""
    return [a for a in args if adjust([a], table) != [a]]


# --- recording kbuild's CHECK arguments ---------------------------------------

RECORDER = """#!/bin/sh
# kbuild $(CHECK) stand-in: saves its arguments (NUL-separated) and its cwd.
for a; do last=$a; done
f="{dir}/$(printf '%s' "$last" | tr / _)"
printf '%s\\0' "$@" > "$f.args"
pwd > "$f.cwd"
"""


def record_check_args(src, build, make_vars, tmpdir):
    """{tu: (cwd, args)} exactly as kbuild passes them to $(CHECK)."""
    os.makedirs(tmpdir, exist_ok=True)
    recorder = os.path.join(tmpdir, "record-check.sh")
    with open(recorder, "w") as f:
        f.write(RECORDER.format(dir=tmpdir))
    os.chmod(recorder, 0o755)
    cmd = ["make", "-s", "-C", src, f"O={build}", *make_vars, "C=2", f"CHECK={recorder}",
           f"-j{os.cpu_count() or 1}"] + [tu[:-2] + ".o" for tu in TUS]
    # One make at a time per build dir (pytest-xdist workers share the cache).
    with open(os.path.join(build, ".rtcheck-test-make.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if res.returncode:
        pytest.fail(f"{' '.join(cmd)} failed:\n{res.stdout[-3000:]}{res.stderr[-3000:]}")
    records = {}
    for tu in TUS:
        base = os.path.join(tmpdir, os.path.join(src, tu).replace("/", "_"))
        assert os.path.exists(base + ".args"), f"kbuild did not run $(CHECK) on {tu}"
        with open(base + ".args") as f:
            args = f.read().split("\0")[:-1]
        with open(base + ".cwd") as f:
            cwd = f.read().strip()
        records[tu] = (cwd, args)
    return records


def cache_dir():
    return os.environ.get("RTCHECK_CACHE") or os.path.expanduser("~/.cache/rtcheck")


@pytest.fixture(scope="session")
def gcc_tree():
    """(src, build) of the gcc-configured 6.12 rt tree; prepares it on first use."""
    if not shutil.which(CLANG):
        pytest.skip(f"{CLANG} not installed")
    build = os.path.join(cache_dir(), "build", "6.12-rt-gcc")
    if not os.path.exists(os.path.join(build, ".rtcheck-prepared")):
        why = None
        if os.environ.get("RTCHECK_NO_PREPARE"):
            why = "RTCHECK_NO_PREPARE is set"
        elif not shutil.which("gcc"):
            why = "gcc is not installed"
        elif not (os.path.exists("/usr/src/linux-source-6.12.tar.xz") or os.path.exists(
                os.path.join(cache_dir(), "src", "linux-source-6.12", ".rtcheck-unpacked"))):
            why = "/usr/src/linux-source-6.12.tar.xz is missing (scripts/bootstrap)"
        if why:
            pytest.skip(f"gcc tree {build} is not prepared and {why}; "
                        "run scripts/prepare-tree --config rt --cc gcc")
    base = [PREPARE, "--version", "6.12", "--config", "rt", "--cc", "gcc"]
    res = subprocess.run(base, capture_output=True, text=True)
    if res.returncode:
        pytest.fail(f"prepare-tree --cc gcc failed:\n{res.stderr}")
    build = res.stdout.strip()
    src = subprocess.run(base + ["--print-src"], check=True, capture_output=True,
                         text=True).stdout.strip()
    return src, build


@pytest.fixture(scope="session")
def gcc_check_args(gcc_tree, tmp_path_factory):
    src, build = gcc_tree
    return record_check_args(src, build, [], str(tmp_path_factory.mktemp("check-gcc")))


@pytest.fixture(scope="session")
def llvm_check_args(rt_build, src_612, tmp_path_factory):
    if not shutil.which(CLANG):
        pytest.skip(f"{CLANG} not installed")
    return record_check_args(src_612, rt_build, ["LLVM=-16"],
                             str(tmp_path_factory.mktemp("check-llvm")))


# --- the table on its own -----------------------------------------------------

def test_table_is_well_formed():
    table = load_table()
    assert table, "empty table"
    spellings = [s for _, s, _ in table]
    assert len(spellings) == len(set(spellings)), "duplicate spellings"
    for action, spelling, repl in table:
        assert action in ACTIONS, f"unknown action {action}"
        assert spelling.startswith("-"), spelling
        assert (repl == "") == action.startswith("DROP"), \
            f"{spelling}: the replacement is used by MAP* and only by them"
    # No argument may match two entries: the order of the file must not matter.
    for a, s, _ in table:
        for b, t, _ in table:
            if s != t and b.endswith("PREFIX") and s.startswith(t):
                pytest.fail(f"{a} {s!r} is shadowed by {b} {t!r}")


def test_adjust_semantics():
    table = [("DROP", "-a", ""), ("DROP_PREFIX", "-b=", ""), ("DROP_PAIR", "-c1", ""),
             ("MAP", "-d", "-D"), ("MAP_PREFIX", "-e=", "-E=")]
    args = ["-a", "-ab", "-b=1", "-c1", "x", "-d", "-e=2", "-Wp,-MMD,f.d",
            "-o", "f.o", "-c", "f.c"]
    assert adjust(args, table) == ["-ab", "-D", "-E=2", "f.c"]
    assert adjust(["--arch=x86", "-fconserve-stack", "-fmin-function-alignment=16"],
                  load_table()) == ["-falign-functions=16"]


def test_map_replacements_are_accepted_by_clang(tmp_path):
    if not shutil.which(CLANG):
        pytest.skip(f"{CLANG} not installed")
    (tmp_path / "t.c").write_text("int x;\n")
    for action, spelling, repl in load_table():
        if action.startswith("MAP"):
            arg = repl + ("16" if action == "MAP_PREFIX" else "")
            res = clang_parse(tmp_path, ["-Werror", arg, "t.c"])
            assert res.returncode == 0, f"{spelling} -> {arg}: {res.stderr}"


# --- the table against kbuild's real CHECK lines ------------------------------

def _check_tu(records, tu, table, must_touch):
    cwd, args = records[tu]
    assert args[-1].endswith(tu), args[-1]
    assert "--arch=x86" in args, "no sparse CHECKFLAGS in the recorded line"
    missing = [a for a in must_touch if a not in touched(args, table)]
    assert not missing, f"expected these to be in {tu}'s line and in the table: {missing}"

    fixed = clang_parse(cwd, adjust(args, table))
    assert fixed.returncode == 0 and "error:" not in fixed.stderr, \
        f"{tu} does not parse with the table applied:\n{fixed.stderr[-4000:]}"

    raw = clang_parse(cwd, adjust(args, []))
    assert raw.returncode != 0, f"{tu} parses even without the table: the test proves nothing"
    assert any(a in raw.stderr for a in touched(args, table)), \
        f"{tu} fails without the table, but not on a table flag:\n{raw.stderr[-4000:]}"


# The GCC-only arguments every 6.12 x86_64 gcc build passes (see the .def).
GCC_ONLY = ["--arch=x86", "-mpreferred-stack-boundary=3", "-mindirect-branch=thunk-extern",
            "-mindirect-branch-register", "-fno-allow-store-data-races", "-fconserve-stack"]


@pytest.mark.parametrize("tu", TUS)
def test_gcc_build_check_line_parses(gcc_check_args, tu):
    _check_tu(gcc_check_args, tu, load_table(), GCC_ONLY)


@pytest.mark.parametrize("tu", TUS)
def test_llvm_build_check_line_parses(llvm_check_args, tu):
    _check_tu(llvm_check_args, tu, load_table(), ["--arch=x86", "-Wbitwise"])


@pytest.mark.parametrize("tu", TUS)
def test_cmd_file_gives_the_same_flags(gcc_tree, gcc_check_args, tu):
    """kbuild's .foo.o.cmd record holds the same c_flags as the CHECK line: a
    tool reading those records instead of running as $(CHECK) sees the same flags."""
    _, build = gcc_tree
    obj = tu[:-2] + ".o"
    cmdfile = os.path.join(build, os.path.dirname(obj), "." + os.path.basename(obj) + ".cmd")
    with open(cmdfile) as f:
        saved = next(line for line in f if line.startswith("savedcmd_"))
    cmd = shlex.split(saved.split(":=", 1)[1])
    if ";" in cmd:  # "; objtool ..." when objtool runs per object
        cmd = cmd[:cmd.index(";")]
    assert os.path.basename(cmd[0]).startswith("gcc"), cmd[0]
    c_flags = adjust(cmd[1:], [])  # drops -c, -o obj, -Wp,-MMD,...
    _, args = gcc_check_args[tu]
    assert adjust(args, [])[-len(c_flags):] == c_flags
