"""The whole-sweep outputs of `rtcheck sweep` (docs/sweep.md, Outputs):
OUT/rtcheck.sarif, merged from the TUs' own SARIF logs, and OUT/report.html.

Two sweeps, each shared by the tests that use it:
- `real`: fs/nfs/unlink.c (rt-rwsem-non-owner), a copy of the fixture
  rt-atomic-sleep/get_cpu_ptr.c (chains; suggestions with patches) and a TU
  that does not compile, whose #error puts markup into its failure. The two
  files are written into the 6.12 tree's kernel/ and removed afterwards.
- `fake`: build/rtcheck-sweep copied beside a stand-in rtcheck-clang that
  writes given reports: one result from two TUs (a header's inline function),
  the rules listed in different orders, markup in messages, notes and patches,
  a TU that fails. rtcheck-clang itself never reports a header twice today.
report.html is also loaded in headless Chromium: a screenshot (also saved as
/tmp/rtcheck-report.png) and the DOM after the page's script ran (sorting and
the rule filter through the URL hash).
"""
import collections
import json
import os
import pathlib
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser

import pytest

from conftest import FIXTURES, REPO, run_rtcheck
from sarif_check import validate_sarif

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT_COPY = "/tmp/rtcheck-report.png"
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
    assert "3 TUs, 2 analysed, 0 unchanged, 1 failed" in proc.stdout, proc.stdout
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
# No functions: the sweep's facts database needs the line all the same.
open(opts["--facts"], "w").write(json.dumps({"functions": [], "registers": [], "includes": []}) + "\n")
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
    assert "3 TUs, 2 analysed, 0 unchanged, 1 failed" in proc.stdout, proc.stdout
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


# --- HTML ---------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def kids(self, tag):
        return [c for c in self.children if isinstance(c, Node) and c.tag == tag]

    def all(self, tag=None, cls=None, **attrs):
        """Descendants with that tag, class and attribute values."""
        for c in self.children:
            if not isinstance(c, Node):
                continue
            if ((tag is None or c.tag == tag) and
                    (cls is None or cls in c.attrs.get("class", "").split()) and
                    all(c.attrs.get(k) == v for k, v in attrs.items())):
                yield c
            yield from c.all(tag, cls, **attrs)

    def find(self, tag=None, cls=None, **attrs):
        return next(self.all(tag, cls, **attrs), None)


class Dom(HTMLParser):
    """A tree of Nodes from an HTML text (every element closed, as here)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", {}, None)
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def page(out):
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        return Dom(f.read()).root


def finding_rows(root):
    """The findings: one tbody each, its row, then its details across the table."""
    return root.find("table", id="findings").kids("tbody")


def subsystem(file):
    parts = file.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


DIFF_CLASS = [("+++", "head"), ("---", "head"), ("@@", "hunk"), ("+", "add"), ("-", "del"),
              ("", "ctx")]


def check_page(out):
    """report.html against findings.json: the header, the summary, every row."""
    root = page(out)
    findings = load(out, "findings.json")["findings"]
    run = {tr.kids("th")[0].text(): tr.kids("td")[0].text()
           for tr in root.find("table", cls="run").all("tr")}
    assert run["findings"] == str(len(findings))
    assert run["TUs"] == "3 (commands from kbuild (make -n))"
    assert (run["analysed"], run["failed"]) == ("2", "1")

    table = root.find("table", cls="summary")
    heads = [th.text() for th in table.find("thead").all("th")]
    assert heads[0] == "subsystem" and heads[-1] == "total"
    cells = collections.Counter()
    for tr in table.find("tbody").kids("tr"):
        sub, *counts, total = [td.text() for td in tr.kids("td")]
        assert int(total) == sum(map(int, counts))
        for rule, n in zip(heads[1:-1], counts):
            cells[sub, rule] += int(n)
    assert +cells == collections.Counter((subsystem(f["file"]), f["rule"]) for f in findings)
    assert table.find("tfoot").kids("tr")[0].kids("td")[-1].text() == str(len(findings))

    rows = finding_rows(root)
    assert len(rows) == len(findings)
    for i, (row, f) in enumerate(zip(rows, findings)):
        fix = f["fix"]
        want = [f["rule"], f["severity"], f"{f['file']}:{f['line']}", f["function"],
                f["message"], subsystem(f["file"]), fix["kind"]]
        main, more = row.kids("tr")
        assert [c.text() for c in main.kids("td")] == want
        assert (row.attrs["data-seq"], row.attrs["data-line"], row.attrs["data-message"]) == \
            (str(i), str(f["line"]), f["message"])
        (details,) = more.kids("td")[0].kids("details")
        steps = len(f["context"])
        assert details.kids("summary")[0].text() == \
            (f"chain: {steps} step{'s' * (steps != 1)}" if steps else "chain: none") + \
            f"; fix: {fix['kind']}" + (", with a patch" if fix.get("diff") else "")
        chain = details.find("div", cls="chain")
        assert (chain is not None) == bool(f["context"])
        if chain:
            steps = chain.find("ol").kids("li")
            assert len(steps) == len(f["context"]) + 1
            for li, c in zip(steps, f["context"]):
                assert li.text() == f"{c['file']}:{c['line']} in {c['function']}: {c['note']}"
            assert steps[-1].text().endswith(": the finding")
        patch = details.find("div", cls="patch")
        assert patch.text().startswith(f"fix: {fix['kind']} {fix['summary']}")
        diff = patch.find("pre", cls="diff")
        assert (diff is not None) == bool(fix.get("diff"))
        if diff:
            lines = [(s.attrs["class"], s.text()) for s in diff.kids("span")]
            assert [t for _, t in lines] == fix["diff"].splitlines()
            for cls, t in lines:
                assert cls == next(c for prefix, c in DIFF_CLASS if t.startswith(prefix))
    return root, findings


def check_self_contained(root):
    """One inline script, inline style, nothing to fetch; no markup from the data."""
    assert root.find("meta", **{"http-equiv": "Content-Security-Policy"}).attrs["content"] \
        .startswith("default-src 'none';")
    (script,) = root.all("script")
    assert script.text().lstrip().startswith("(function () {") and "src" not in script.attrs
    assert "://" not in root.find("style").text()
    for node in root.all():
        for attr in ("src", "href"):
            assert node.attrs.get(attr, "#").startswith("#"), (node.tag, node.attrs)
    assert root.find("img") is None and root.find("link") is None


def test_sweep_html_of_a_real_sweep(real):
    root, findings = check_page(real["out"])
    check_self_contained(root)
    assert sum(bool(f["context"]) for f in findings) > 10
    assert sum("diff" in f["fix"] for f in findings) >= 3
    (failure,) = root.find("table", cls="failures").find("tbody").kids("tr")
    tu, reason, tail = [td.text() for td in failure.kids("td")]
    assert (tu, reason) == (real["bad_tu"], "exit 3: input error (does not compile)")
    assert BAD_ERROR in tail


def test_sweep_html_escapes_the_data(fake):
    root, findings = check_page(fake)
    check_self_contained(root)
    assert [f["message"] for f in findings] == [IN_UNLINK["message"], HEADER["message"],
                                                IN_WRITE["message"]]
    assert [r.attrs["data-subsystem"] for r in finding_rows(root)] == \
        ["fs/nfs", "include/linux", "fs/nfs"]
    header_diff = finding_rows(root)[1].find("pre", cls="diff")
    assert [s.attrs["class"] for s in header_diff.kids("span")] == \
        ["head", "head", "hunk", "del", "add", "ctx"]
    (failure,) = root.find("table", cls="failures").find("tbody").kids("tr")
    assert [td.text() for td in failure.kids("td")] == \
        ["kernel/bpf/core.c", "exit 3: input error (does not compile)", FAKE_ERROR]


# --- in a browser -------------------------------------------------------------

def chromium(tmp_path, *args):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    profile.mkdir()
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def url(out, fragment=""):
    return pathlib.Path(out, "report.html").as_uri() + (f"#{fragment}" if fragment else "")


def png_pixels(path):
    """(width, height, [(r, g, b)...]) of an 8-bit RGB or RGBA PNG, not interlaced."""
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, pixels = bytearray(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind in (1, 3, 4):
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                if kind == 1:
                    line[i] = (line[i] + left) & 255
                elif kind == 3:
                    line[i] = (line[i] + (left + prev[i]) // 2) & 255
                else:
                    up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                    line[i] = (line[i] + pred) & 255
        pixels += [bytes(line[x:x + 3]) for x in range(0, stride, bpp)]
        prev = line
    return width, height, pixels


def test_sweep_html_renders_in_chromium(real, tmp_path):
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1000",
             url(real["out"], "rule=rt-atomic-sleep&open=all"))
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1280, 1000)
    colours = collections.Counter(pixels)
    assert len(colours) > 200, f"{len(colours)} colours: not a rendered page"
    assert colours.most_common(1)[0][1] < 0.9 * width * height, "mostly one colour"
    # the page's CSS: the backgrounds of the table headers and of the run's table
    assert colours[bytes.fromhex("e3e9f3")] > 5000
    assert colours[bytes.fromhex("f1f4f9")] > 5000
    shutil.copy(shot, SCREENSHOT_COPY)


def test_sweep_html_sorts_and_filters_in_chromium(real, tmp_path):
    findings = load(real["out"], "findings.json")["findings"]
    n = len(findings)

    def shown(fragment):
        root = Dom(chromium(tmp_path, "--dump-dom", url(real["out"], fragment))).root
        rows = finding_rows(root)
        assert len(rows) == n  # filtered rows are hidden, not removed
        return [r.attrs for r in rows if "hidden" not in r.attrs], root.find(id="status").text()

    rows, status = shown("")
    assert [(r["data-file"], int(r["data-line"])) for r in rows] == \
        [(f["file"], f["line"]) for f in findings]
    assert status == f"{n} of {n} findings shown, in path order"

    rows, status = shown("sort=-file")
    keys = [(r["data-file"], int(r["data-line"])) for r in rows]
    assert keys == sorted(keys, reverse=True) and len(keys) == n
    assert keys != [(f["file"], f["line"]) for f in findings]
    assert status == f"{n} of {n} findings shown, sorted by file (descending)"

    rows, status = shown("sort=function&rule=rt-atomic-sleep")
    atomic = [f for f in findings if f["rule"] == ATOMIC]
    assert 0 < len(atomic) < n
    assert [r["data-rule"] for r in rows] == [ATOMIC] * len(atomic)
    assert [r["data-function"] for r in rows] == sorted(f["function"] for f in atomic)
    assert status == f"{len(atomic)} of {n} findings shown, sorted by function"
