"""What the speed benchmarks (bench/per-tu, bench/sweep) share: the prepared
tree, the build dir's make lock, the machine and commit they ran on."""
import contextlib
import fcntl
import os
import platform
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLANG = "clang-16"


def die(prog, msg, status=3):
    print(f"{prog}: error: {msg}", file=sys.stderr)
    sys.exit(status)


def prepared_tree(src=False, prog="bench"):
    """The 6.12 PREEMPT_RT build dir (or its source dir) of scripts/prepare-tree."""
    cmd = [os.path.join(REPO, "scripts", "prepare-tree"), "--version", "6.12", "--config", "rt"]
    res = subprocess.run(cmd + (["--print-src"] if src else []), capture_output=True, text=True)
    if res.returncode:
        die(prog, f"scripts/prepare-tree failed: {res.stderr.strip()}")
    return res.stdout.strip()


def source_dir(build):
    """The source tree of a build dir: its `source` link (O= builds) or itself."""
    link = os.path.join(build, "source")
    return os.path.realpath(link) if os.path.exists(link) else os.path.realpath(build)


def config_value(build, opt):
    try:
        with open(os.path.join(build, ".config")) as f:
            for line in f:
                if line.startswith(f"CONFIG_{opt}="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


@contextlib.contextmanager
def build_lock(build):
    """rtcheck's processes that run make in a build dir take turns on
    BUILD/.rtcheck-test-make.lock when it exists (the prepared trees), as the
    sweep and the tests do; no lock file is made elsewhere."""
    try:
        fd = os.open(os.path.join(build, ".rtcheck-test-make.lock"), os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        fd = -1
    try:
        if fd >= 0:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd >= 0:
            os.close(fd)


def make_env():
    """The environment for a make of ours: no jobserver or flags of a make above."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


def git_describe():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def tool_version(cmd):
    """First line of `cmd` (a --version command), or '?'."""
    try:
        res = subprocess.run(cmd, capture_output=True, text=True)
    except OSError:
        return "?"
    lines = (res.stdout or res.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def loadavg():
    """The 1, 5 and 15 minute load averages as a string."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
