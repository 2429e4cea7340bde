"""Every fixture, on every tree: exactly the expected findings (design.md §5)."""
import glob
import os

import pytest

from conftest import FIXTURES
from rtfixtures import expectations, expected_severities, fixture_trees, run_check

CASES = [(tree, path)
         for path in sorted(glob.glob(os.path.join(FIXTURES, "*", "*.c")))
         for tree in fixture_trees(path)]


@pytest.mark.parametrize("tree,path", CASES,
                         ids=[f"{t}:{os.path.relpath(p, FIXTURES)}" for t, p in CASES])
def test_fixture(tree, path):
    findings, proc = run_check(tree, path)
    assert "rtcheck: error" not in proc.stderr, proc.stderr
    rel = os.path.relpath(path, FIXTURES)
    got = {(f["line"], f["rule"]) for f in findings}
    want = expectations(path)
    problems = [f"{rel}:{line}: missing {rule}" for line, rule in sorted(want - got)]
    problems += [f"{rel}:{line}: unexpected {rule}: "
                 + next(f["message"] for f in findings if (f["line"], f["rule"]) == (line, rule))
                 for line, rule in sorted(got - want)]
    for line, severity in expected_severities(path).items():
        got_sev = {f["severity"] for f in findings if f["line"] == line}
        if got_sev != {severity}:
            problems.append(f"{rel}:{line}: severity {sorted(got_sev)}, want {severity}")
    assert not problems, "\n".join(problems)


def test_every_rule_has_fixtures():
    rules_def = open(os.path.join(os.path.dirname(FIXTURES), "..", "include", "rtcheck",
                                  "rules.def")).read()
    import re
    for rule in re.findall(r'RTCHECK_RULE\(\w+,\s*"([\w-]+)"', rules_def):
        files = glob.glob(os.path.join(FIXTURES, rule, "*.c"))
        assert files, f"rule {rule} has no fixture in tests/fixtures/{rule}/"
        assert any(expectations(f) for f in files), f"rule {rule}: no fixture expects a finding"
