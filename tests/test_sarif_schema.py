"""`rtcheck check --format sarif` against the official SARIF 2.1.0 schema.

The validator (tests/sarif_check.py) is tested first on hand-written logs: a
minimal valid one must pass and each broken variant must fail, so a passing
check on the real output means something. Then the real tool runs on
fs/nfs/unlink.c of the prepared 6.12-rt tree, whose nfs_async_unlink_release
releases an rwsem from a work item (rt-rwsem-non-owner); its stdout must be a
valid SARIF log with at least one such result. Last, the SARIF `fixes` of
fixtures: valid, and their replacements, applied to the fixture, give exactly
its .c.fixed text; a finding without a fix has no `fixes`.
"""
import copy
import json
import os
import shutil
import subprocess

import pytest

from conftest import FIXTURES, REPO
from sarif_check import (SCHEMA_PATH, load_schema, schema_errors, uri_problem,
                         validate_sarif)

RULE = "rt-rwsem-non-owner"

MINIMAL = {
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    "version": "2.1.0",
    "runs": [{
        "tool": {"driver": {
            "name": "rtcheck",
            "informationUri": "https://example.invalid/rtcheck",
            "rules": [
                {"id": "rt-sleep-in-atomic",
                 "shortDescription": {"text": "sleeping call in atomic context"}},
                {"id": RULE,
                 "shortDescription": {"text": "rwsem released by a non-owner"}},
            ],
        }},
        "originalUriBaseIds": {"SRCROOT": {"uri": "file:///usr/src/linux/"}},
        "results": [{
            "ruleId": RULE,
            "ruleIndex": 1,
            "level": "warning",
            "message": {"text": "up_read() on a rwsem taken by another task"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "fs/nfs/unlink.c", "uriBaseId": "SRCROOT"},
                "region": {"startLine": 93, "startColumn": 2},
            }}],
        }],
    }],
}


def broken(mutate):
    doc = copy.deepcopy(MINIMAL)
    mutate(doc)
    return doc


def result0(doc):
    return doc["runs"][0]["results"][0]


def region0(doc):
    return result0(doc)["locations"][0]["physicalLocation"]["region"]


def artifact0(doc):
    return result0(doc)["locations"][0]["physicalLocation"]["artifactLocation"]


def test_stored_schema_is_sarif_210():
    schema = load_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"].endswith("/sarif-schema-2.1.0.json")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert "2.1.0" in schema["title"]
    from jsonschema import validators
    cls = validators.validator_for(schema)
    assert cls.__name__ == "Draft7Validator"
    cls.check_schema(schema)  # the schema is itself a valid draft-07 schema
    assert os.path.getsize(SCHEMA_PATH) == 111714


def test_minimal_valid_log_passes():
    assert validate_sarif(MINIMAL) == []


def test_valid_log_variants_pass():
    # No ruleIndex, an empty results array in a second run, several locations
    # of which only one is a source location.
    doc = copy.deepcopy(MINIMAL)
    del result0(doc)["ruleIndex"]
    result0(doc)["locations"].insert(0, {"message": {"text": "no physical location"}})
    doc["runs"].append({"tool": {"driver": {"name": "rtcheck"}}, "results": []})
    assert validate_sarif(doc) == []


FIX = {
    "description": {"text": "make RT take the fallback"},
    "artifactChanges": [{
        "artifactLocation": {"uri": "fs/nfs/unlink.c", "uriBaseId": "SRCROOT"},
        "replacements": [
            {"deletedRegion": {"startLine": 93, "startColumn": 2, "endLine": 93,
                               "endColumn": 21, "charOffset": 2410, "charLength": 19},
             "insertedContent": {"text": "up_read"}},
            {"deletedRegion": {"startLine": 90, "startColumn": 1, "endLine": 91,
                               "endColumn": 1, "charOffset": 2300, "charLength": 12}},
        ],
    }],
}


def with_fix(doc):
    result0(doc)["fixes"] = [copy.deepcopy(FIX)]
    return result0(doc)["fixes"][0]


def change0(doc):
    return with_fix(doc)["artifactChanges"][0]


def test_log_with_fix_passes():
    doc = copy.deepcopy(MINIMAL)
    with_fix(doc)
    assert validate_sarif(doc) == []


BROKEN = {
    # name: (mutation, a substring one of the errors must contain)
    "missing version": (lambda d: d.pop("version"), "'version' is a required property"),
    "wrong version": (lambda d: d.update(version="2.0.0"), "version"),
    "version as number": (lambda d: d.update(version=2.1), "version"),
    "missing runs": (lambda d: d.pop("runs"), "'runs' is a required property"),
    "no run": (lambda d: d.update(runs=[]), "at least one run"),
    "run without tool": (lambda d: d["runs"][0].pop("tool"), "'tool' is a required property"),
    "result without message":
        (lambda d: result0(d).pop("message"), "'message' is a required property"),
    "message without text":
        (lambda d: result0(d).update(message={"id": "default"}), "message.text"),
    "empty message text":
        (lambda d: result0(d).update(message={"text": ""}), "message.text"),
    "unknown result property":
        (lambda d: result0(d).update(severity="high"), "Additional properties"),
    "bad level": (lambda d: result0(d).update(level="fatal"), "level"),
    "startLine 0": (lambda d: region0(d).update(startLine=0), "startLine"),
    "startLine missing": (lambda d: region0(d).pop("startLine"), "startLine"),
    "startLine string": (lambda d: region0(d).update(startLine="93"), "startLine"),
    "startColumn 0": (lambda d: region0(d).update(startColumn=0), "startColumn"),
    "endLine before startLine": (lambda d: region0(d).update(endLine=90), "endLine"),
    "region missing":
        (lambda d: result0(d)["locations"][0]["physicalLocation"].pop("region"), "region"),
    "no locations": (lambda d: result0(d).pop("locations"), "at least one location"),
    "empty locations": (lambda d: result0(d).update(locations=[]), "at least one location"),
    "location without physicalLocation":
        (lambda d: result0(d).update(locations=[{"message": {"text": "x"}}]),
         "no location has"),
    "uri missing": (lambda d: artifact0(d).pop("uri"), "uri"),
    "absolute path uri": (lambda d: artifact0(d).update(uri="/usr/src/linux/fs/nfs/unlink.c"),
                          "absolute path"),
    "file:// uri": (lambda d: artifact0(d).update(uri="file:///usr/src/linux/fs/nfs/unlink.c"),
                    "is absolute"),
    "dotdot uri": (lambda d: artifact0(d).update(uri="../linux/fs/nfs/unlink.c"), "'..'"),
    "ruleId missing": (lambda d: result0(d).pop("ruleId"), "ruleId"),
    "ruleId not in rules": (lambda d: result0(d).update(ruleId="rt-no-such-rule"),
                            "is not in runs[0].tool.driver.rules[].id"),
    "no rules at all": (lambda d: d["runs"][0]["tool"]["driver"].pop("rules"),
                        "is not in runs[0].tool.driver.rules[].id"),
    "ruleIndex names another rule": (lambda d: result0(d).update(ruleIndex=0), "ruleIndex 0"),
    "ruleIndex out of range": (lambda d: result0(d).update(ruleIndex=2), "out of range"),
    "duplicate rule id":
        (lambda d: d["runs"][0]["tool"]["driver"]["rules"].append({"id": RULE}), "duplicate"),
    "rule without id":
        (lambda d: d["runs"][0]["tool"]["driver"]["rules"][0].pop("id"),
         "'id' is a required property"),
    "fix without artifactChanges":
        (lambda d: with_fix(d).pop("artifactChanges"), "'artifactChanges' is a required property"),
    "fix changing nothing": (lambda d: with_fix(d).update(artifactChanges=[]), "artifactChanges"),
    "change without replacements":
        (lambda d: change0(d).pop("replacements"), "'replacements' is a required property"),
    "replacement without deletedRegion":
        (lambda d: change0(d)["replacements"][0].pop("deletedRegion"),
         "'deletedRegion' is a required property"),
    "negative charLength":
        (lambda d: change0(d)["replacements"][0]["deletedRegion"].update(charLength=-1),
         "charLength"),
    "inserted text not a string":
        (lambda d: change0(d)["replacements"][0].update(insertedContent={"text": 1}), "text"),
    "fix uri absolute":
        (lambda d: change0(d)["artifactLocation"].update(uri="/usr/src/linux/fs/nfs/unlink.c"),
         "fixes[0].artifactChanges[0].artifactLocation.uri"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_log_fails(name):
    mutate, expect = BROKEN[name]
    errors = validate_sarif(broken(mutate))
    assert errors, f"{name}: the validator accepted a broken log"
    assert any(expect in e for e in errors), f"{name}: no error mentions {expect!r}: {errors}"


def test_schema_alone_catches_schema_violations():
    # The schema layer on its own (without the extra checks) can fail.
    assert schema_errors(broken(lambda d: d.pop("version")))
    assert schema_errors(broken(lambda d: d.update(version="2.0.0")))
    assert schema_errors(broken(lambda d: region0(d).update(startLine=0)))
    assert schema_errors(broken(lambda d: result0(d).pop("message")))
    assert schema_errors(MINIMAL) == []


@pytest.mark.parametrize("uri,ok", [
    ("fs/nfs/unlink.c", True),
    ("include/linux/rwsem.h", True),
    ("fs/nfs/./unlink.c", True),
    ("", False),
    ("/abs/fs/nfs/unlink.c", False),
    ("file:///abs/fs/nfs/unlink.c", False),
    ("C:/linux/fs/nfs/unlink.c", False),
    ("fs\\nfs\\unlink.c", False),
    ("fs/nfs/un link.c", False),
    ("fs/../../etc/passwd", False),
])
def test_uri_problem(uri, ok):
    assert (uri_problem(uri) is None) == ok


def test_rtcheck_sarif_on_nfs_unlink(request):
    rtcheck = os.path.join(REPO, "rtcheck")
    # Fails (does not skip) while the launcher is missing.
    assert os.path.isfile(rtcheck) and os.access(rtcheck, os.X_OK), \
        f"{rtcheck} does not exist or is not executable"
    rt_build = request.getfixturevalue("rt_build")
    src_612 = request.getfixturevalue("src_612")
    src = os.path.join(src_612, "fs", "nfs", "unlink.c")
    proc = subprocess.run(
        [rtcheck, "check", "--build", rt_build, "--format", "sarif", src],
        capture_output=True, text=True, timeout=900)
    assert proc.stdout.strip(), \
        f"no output (exit {proc.returncode}); stderr:\n{proc.stderr[-3000:]}"
    try:
        doc = json.loads(proc.stdout)
    except ValueError as e:
        pytest.fail(f"stdout is not JSON ({e}); exit {proc.returncode}; "
                    f"stdout starts:\n{proc.stdout[:2000]}\nstderr:\n{proc.stderr[-3000:]}")
    errors = validate_sarif(doc)
    assert errors == [], "invalid SARIF:\n" + "\n".join(errors[:50])
    results = [r for run in doc["runs"] for r in run.get("results", [])]
    hits = [r for r in results if r.get("ruleId") == RULE]
    assert hits, (f"no {RULE} result; ruleIds: {sorted({r.get('ruleId') for r in results})}; "
                  f"exit {proc.returncode}; stderr:\n{proc.stderr[-3000:]}")
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in hits for loc in r["locations"] if "physicalLocation" in loc}
    assert any(u.endswith("fs/nfs/unlink.c") for u in uris), uris


# SARIF fixes of fixtures: all findings auto (napi_cache.c), auto and none
# (fallback.c), suggestions and none, applied with --unsafe (get_cpu_ptr.c).
TOOL = os.path.join(REPO, "build", "rtcheck-clang")
FIX_FIXTURES = ["rt-percpu-bh/napi_cache.c", "rt-rwsem-non-owner/fallback.c",
                "rt-atomic-sleep/get_cpu_ptr.c"]


def fixture_sarif(rel, tmp_path):
    """The SARIF log of a fixture copied to tmp_path (the root of its paths)."""
    from rtfixtures import kbuild_flags
    work = tmp_path / os.path.basename(rel)
    shutil.copy(os.path.join(FIXTURES, rel), work)
    build, _, args = kbuild_flags("6.12-rt")
    proc = subprocess.run([TOOL, "--format=sarif", f"--root={tmp_path}", "--", *args, str(work)],
                          cwd=build, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert validate_sarif(doc) == [], validate_sarif(doc)[:20]
    return [r for run in doc["runs"] for r in run["results"]]


def utf16_len(text):
    return len(text.encode("utf-16-le")) // 2


def region_span(text, region):
    """[start, end) of a text region in UTF-16 code units (SARIF's default
    character unit), from its lines and columns; charOffset/charLength must
    say the same."""
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + utf16_len(line) + 1)
    start = starts[region["startLine"] - 1] + region["startColumn"] - 1
    end = starts[region["endLine"] - 1] + region["endColumn"] - 1
    assert 0 <= start <= end <= utf16_len(text), region
    assert (region["charOffset"], region["charLength"]) == (start, end - start), region
    return start, end


def apply_sarif_fixes(text, results, kinds):
    """text with the replacements of the results whose fix kind is in kinds;
    an edit two findings share (one conversion for several) counts once."""
    edits = set()
    for r in results:
        if r.get("properties", {}).get("fixKind") not in kinds:
            continue
        for fix in r["fixes"]:
            for change in fix["artifactChanges"]:
                for rep in change["replacements"]:
                    start, end = region_span(text, rep["deletedRegion"])
                    edits.add((start, end, rep.get("insertedContent", {}).get("text", "")))
    units = text.encode("utf-16-le")
    last_start = None
    for start, end, new in sorted(edits, reverse=True):
        assert last_start is None or end <= last_start, f"overlapping edits at {start}"
        units = units[:2 * start] + new.encode("utf-16-le") + units[2 * end:]
        last_start = start
    return units.decode("utf-16-le")


@pytest.mark.parametrize("rel", FIX_FIXTURES)
def test_sarif_fixes_give_the_fixed_text(rel, tmp_path):
    results = fixture_sarif(rel, tmp_path)
    original = open(os.path.join(FIXTURES, rel)).read()
    fixed = open(os.path.join(FIXTURES, rel + ".fixed")).read()
    assert fixed != original
    kinds = {"auto", "suggestion"} if "fix-mode: unsafe" in original else {"auto"}
    with_fixes = 0
    for r in results:
        props = r.get("properties", {})
        if props.get("fixKind") not in ("auto", "suggestion"):
            assert "fixes" not in r, r
            continue
        with_fixes += 1
        assert props["fixDiff"].startswith("--- a/"), props  # the diff stays
        (fix,) = r["fixes"]
        assert fix["description"]["text"] == props["fixSummary"]
        (change,) = fix["artifactChanges"]
        assert change["artifactLocation"] == {"uri": os.path.basename(rel),
                                              "uriBaseId": "SRCROOT"}
        assert change["replacements"]
    assert with_fixes
    assert apply_sarif_fixes(original, results, kinds) == fixed


def test_sarif_finding_without_fix_has_no_fixes(tmp_path):
    results = fixture_sarif("rt-rwsem-non-owner/fallback.c", tmp_path)
    by_function = {r["locations"][0]["logicalLocations"][0]["name"]: r for r in results}
    unfixed = by_function["fixture_macro_fallback"]  # kind none: the code is in a macro
    assert "fixes" not in unfixed and "properties" not in unfixed
    assert "fixes" in by_function["fixture_build_id"]
