"""Running a cocci/ script the way `make coccicheck` does, for the tests of
each Coccinelle twin."""
import os
import re
import shutil
import subprocess

import pytest

# coccilib.report.print_report: FILE:LINE:COL-COLEND: MESSAGE
REPORT_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)-(?P<colend>\d+): (?P<msg>.*)$")
MARKER_RE = re.compile(r"/\*\s*expect(?:@(?P<off>[+-]\d+))?\s*:\s*(?P<ids>[^*]*?)\s*\*/")
TIMEOUT = 900


def require_spatch(cocci):
    if not os.path.isfile(cocci):
        pytest.fail(f"{cocci} is missing")
    spatch = shutil.which("spatch")
    if not spatch:
        pytest.fail("spatch not found on PATH: install Debian's coccinelle (scripts/bootstrap)")
    out = subprocess.run([spatch, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"spatch version (\d+)\.(\d+)\.(\d+)", out)
    if not m or tuple(map(int, m.groups())) < (1, 1, 0):
        pytest.fail(f"{os.path.basename(cocci)} needs spatch >= 1.1.0 (#spatch directives); "
                    f"got: {out.strip()!r}")
    return spatch


def cocci_options(cocci):
    """The `// Options:` line of the script, exactly as coccicheck extracts it."""
    with open(cocci) as f:
        lines = [l for l in f if "Options:" in l]
    assert len(lines) == 1, f"{cocci}: expected exactly one '// Options:' line, found {len(lines)}"
    return lines[0].split(":", 1)[1].split()


def run_spatch(cocci, path, mode="report", cwd=None):
    spatch = require_spatch(cocci)
    cmd = [spatch, "-D", mode, "--very-quiet", *cocci_options(cocci), "--cocci-file", cocci, path]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT)
    assert res.returncode == 0, f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}{res.stderr}"
    # A python exception inside the script is printed, not fatal, in spatch.
    assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr
    return res.stdout


def report_lines(cocci, path, cwd=None):
    """Report mode on one file: [(line, column, message)]; other output fails."""
    found, junk = [], []
    for l in run_spatch(cocci, path, "report", cwd).splitlines():
        m = REPORT_RE.match(l)
        if m:
            found.append((int(m["line"]), int(m["col"]), m["msg"]))
        elif l.strip():
            junk.append(l)
    # Anything else on stdout (a python traceback, a SmPL parse error) is a bug.
    assert not junk, f"unexpected spatch output for {path}:\n" + "\n".join(junk)
    return found


def script_namespace(cocci):
    """The names the script's @initialize:python@ block defines (its API lists),
    and the script's text; coccilib is stubbed for the import."""
    import sys
    import types
    with open(cocci) as f:
        text = f.read()
    body = text.split("@initialize:python@\n@@\n", 1)[1]
    body = body[:re.search(r"^(@|//)", body, re.M).start()]
    stub = types.ModuleType("coccilib")
    stub.elems = types.ModuleType("coccilib.elems")
    saved = {k: sys.modules.get(k) for k in ("coccilib", "coccilib.elems")}
    sys.modules.update({"coccilib": stub, "coccilib.elems": stub.elems})
    try:
        ns = {}
        exec(compile(body, cocci, "exec"), ns)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return ns, text


def check_context_and_org(cocci, path, want, cwd=None):
    """Context mode stars, and org mode lists, exactly the report lines want."""
    ctx = run_spatch(cocci, path, "context", cwd)
    starred = [l for l in ctx.splitlines() if l.startswith("-") and not l.startswith("---")]
    assert len(starred) == len(want), ctx
    org = run_spatch(cocci, path, "org", cwd)
    todo = re.findall(r"^\* TODO \[\[view:.*?::linb=(\d+)::", org, re.M)
    assert sorted(map(int, todo)) == want, org
