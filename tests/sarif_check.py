"""Validate a SARIF 2.1.0 log the way GitHub code scanning will consume it.

validate_sarif(doc) returns a list of error messages; an empty list means valid.
Two layers:

1. The official SARIF 2.1.0 JSON schema (tests/schemas/sarif-2.1.0.json, see
   tests/schemas/README.md for its provenance), with the jsonschema validator
   class for the draft the schema itself declares ($schema: draft-07).
   Formats ("uri", "date-time") are not checked: whether jsonschema can check
   them depends on optional packages, and the results must not depend on the
   machine.
2. Checks the schema does not make but an upload to code scanning needs:
   - there is at least one run;
   - every result has a non-empty ruleId, listed in that run's
     tool.driver.rules[].id, and a non-empty message.text;
   - a ruleIndex, where present, is in range and names the same rule;
   - every result has at least one location whose
     physicalLocation.artifactLocation.uri is a relative reference (no scheme,
     no leading '/', no '..' segment, no backslash or space) and whose
     region.startLine is an integer >= 1; a physicalLocation that is present
     in locations[] or relatedLocations[] must be well-formed the same way;
   - the artifacts a fix changes (fixes[].artifactChanges[].artifactLocation)
     are named by a relative reference too;
   - region end lines/columns do not come before the start;
   - rule ids are unique within a driver.

Command line: python3 tests/sarif_check.py FILE.sarif [...]  (or '-' for stdin)
prints one error per line and exits 1 if any file is invalid.

Needs the 'jsonschema' module (Debian: python3-jsonschema); works with
jsonschema 4.10 (Debian bookworm) and later.
"""
from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from urllib.parse import urlsplit

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "schemas", "sarif-2.1.0.json")


@lru_cache(maxsize=None)
def load_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=None)
def _validator():
    from jsonschema import validators

    schema = load_schema()
    # The class for the draft the schema declares in "$schema" (draft-07).
    cls = validators.validator_for(schema)
    return cls(schema)


def _fmt_path(parts) -> str:
    """['runs', 0, 'results', 3, 'message'] -> 'runs[0].results[3].message'."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "<root>"


def schema_errors(doc) -> list[str]:
    """Errors from the SARIF 2.1.0 JSON schema alone."""
    errors = sorted(_validator().iter_errors(doc),
                    key=lambda e: [str(p) for p in e.absolute_path])
    return [f"schema: {_fmt_path(e.absolute_path)}: {e.message}" for e in errors]


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _nonempty_str(v) -> bool:
    return isinstance(v, str) and v.strip() != ""


def uri_problem(uri) -> str | None:
    """Why `uri` is not a usable relative artifact URI, or None if it is."""
    if not isinstance(uri, str) or uri == "":
        return "is missing or empty"
    if "\\" in uri:
        return f"{uri!r} contains a backslash"
    if any(c.isspace() for c in uri):
        return f"{uri!r} contains whitespace"
    parts = urlsplit(uri)
    if parts.scheme:
        return f"{uri!r} is absolute (scheme {parts.scheme!r}); code scanning needs a path relative to the source root"
    if uri.startswith("/"):
        return f"{uri!r} is an absolute path; code scanning needs a path relative to the source root"
    if ".." in parts.path.split("/"):
        return f"{uri!r} has a '..' segment"
    return None


def _physical_location_errors(where: str, phys) -> tuple[list[str], bool]:
    """Check one physicalLocation; returns (errors, complete) where complete
    means it has a good relative uri and region.startLine >= 1."""
    errs: list[str] = []
    if not isinstance(phys, dict):
        return [f"{where}: physicalLocation is not an object"], False
    art = phys.get("artifactLocation")
    uri = art.get("uri") if isinstance(art, dict) else None
    problem = uri_problem(uri)
    if problem:
        errs.append(f"{where}.artifactLocation.uri {problem}")
    region = phys.get("region")
    start_ok = False
    if not isinstance(region, dict):
        errs.append(f"{where}.region is missing (code scanning needs region.startLine)")
    else:
        sl = region.get("startLine")
        if not _is_int(sl):
            errs.append(f"{where}.region.startLine is missing or not an integer")
        elif sl < 1:
            errs.append(f"{where}.region.startLine is {sl}; must be >= 1")
        else:
            start_ok = True
            el = region.get("endLine")
            if _is_int(el) and el < sl:
                errs.append(f"{where}.region.endLine {el} is before startLine {sl}")
            sc, ec = region.get("startColumn"), region.get("endColumn")
            if _is_int(sc) and sc < 1:
                errs.append(f"{where}.region.startColumn is {sc}; must be >= 1")
            if _is_int(ec) and ec < 1:
                errs.append(f"{where}.region.endColumn is {ec}; must be >= 1")
            same_line = not _is_int(el) or el == sl
            if same_line and _is_int(sc) and _is_int(ec) and ec < sc:
                errs.append(f"{where}.region.endColumn {ec} is before startColumn {sc}")
    return errs, (problem is None and start_ok)


def github_errors(doc) -> list[str]:
    """Errors from the checks the schema does not make (see module docstring)."""
    errs: list[str] = []
    if not isinstance(doc, dict):
        return ["document is not a JSON object"]
    runs = doc.get("runs")
    if not isinstance(runs, list) or not runs:
        return ["runs: code scanning needs at least one run"]
    for ri, run in enumerate(runs):
        rw = f"runs[{ri}]"
        if not isinstance(run, dict):
            errs.append(f"{rw}: not an object")
            continue
        tool = run.get("tool")
        driver = tool.get("driver") if isinstance(tool, dict) else None
        rules = driver.get("rules", []) if isinstance(driver, dict) else []
        if not isinstance(rules, list):
            rules = []
        rule_ids = [r.get("id") if isinstance(r, dict) else None for r in rules]
        seen: set = set()
        for k, rid in enumerate(rule_ids):
            if not _nonempty_str(rid):
                errs.append(f"{rw}.tool.driver.rules[{k}].id is missing or empty")
            elif rid in seen:
                errs.append(f"{rw}.tool.driver.rules[{k}].id {rid!r} is a duplicate")
            seen.add(rid)
        results = run.get("results", [])
        if not isinstance(results, list):
            continue  # the schema reports it
        for i, res in enumerate(results):
            w = f"{rw}.results[{i}]"
            if not isinstance(res, dict):
                errs.append(f"{w}: not an object")
                continue
            rid = res.get("ruleId")
            if not _nonempty_str(rid):
                errs.append(f"{w}.ruleId is missing or empty")
            elif rid not in seen:
                errs.append(f"{w}.ruleId {rid!r} is not in {rw}.tool.driver.rules[].id")
            if "ruleIndex" in res:
                idx = res["ruleIndex"]
                if not _is_int(idx) or not 0 <= idx < len(rules):
                    errs.append(f"{w}.ruleIndex {idx!r} is out of range "
                                f"(driver has {len(rules)} rules)")
                elif rule_ids[idx] != rid:
                    errs.append(f"{w}.ruleIndex {idx} names rule {rule_ids[idx]!r}, "
                                f"not ruleId {rid!r}")
            msg = res.get("message")
            if not (isinstance(msg, dict) and _nonempty_str(msg.get("text"))):
                errs.append(f"{w}.message.text is missing or empty")
            locs = res.get("locations")
            complete = False
            if not isinstance(locs, list) or not locs:
                errs.append(f"{w}.locations: code scanning needs at least one location")
                locs = []
            for j, loc in enumerate(locs):
                lw = f"{w}.locations[{j}]"
                if not isinstance(loc, dict) or "physicalLocation" not in loc:
                    continue
                e, ok = _physical_location_errors(f"{lw}.physicalLocation",
                                                  loc["physicalLocation"])
                errs += e
                complete = complete or ok
            if locs and not complete:
                errs.append(f"{w}.locations: no location has a relative "
                            "physicalLocation.artifactLocation.uri and region.startLine >= 1")
            related = res.get("relatedLocations", [])
            for j, loc in enumerate(related if isinstance(related, list) else []):
                if isinstance(loc, dict) and "physicalLocation" in loc:
                    e, _ = _physical_location_errors(
                        f"{w}.relatedLocations[{j}].physicalLocation", loc["physicalLocation"])
                    errs += e
            fixes = res.get("fixes", [])
            for j, fix in enumerate(fixes if isinstance(fixes, list) else []):
                changes = fix.get("artifactChanges", []) if isinstance(fix, dict) else []
                for k, change in enumerate(changes if isinstance(changes, list) else []):
                    art = change.get("artifactLocation") if isinstance(change, dict) else None
                    problem = uri_problem(art.get("uri") if isinstance(art, dict) else None)
                    if problem:
                        errs.append(f"{w}.fixes[{j}].artifactChanges[{k}]"
                                    f".artifactLocation.uri {problem}")
    return errs


def validate_sarif(doc: dict) -> list[str]:
    """All errors (schema first, then the code-scanning checks); [] = valid."""
    return schema_errors(doc) + github_errors(doc)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: sarif_check.py FILE.sarif [...]  ('-' reads stdin)", file=sys.stderr)
        return 2
    bad = 0
    for name in argv:
        try:
            text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
            doc = json.loads(text)
        except (OSError, ValueError) as e:
            print(f"{name}: cannot read JSON: {e}")
            bad += 1
            continue
        errors = validate_sarif(doc)
        for e in errors:
            print(f"{name}: {e}")
        if errors:
            bad += 1
        else:
            print(f"{name}: valid SARIF 2.1.0")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
