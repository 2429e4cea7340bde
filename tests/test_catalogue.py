"""Every rule of include/rtcheck/rules.def has its source, doc, fixtures and
Coccinelle twin (style.md: adding a rule touches exactly these)."""
import glob
import os
import re

import pytest

from conftest import REPO

RULES = re.findall(r'RTCHECK_RULE\((\w+),\s*"([\w-]+)"',
                   open(os.path.join(REPO, "include", "rtcheck", "rules.def")).read())


def test_catalogue_not_empty():
    assert RULES


@pytest.mark.parametrize("cls,rule", RULES, ids=[r for _, r in RULES])
def test_rule_has_its_parts(cls, rule):
    missing = [p for p in (f"checkers/rules/{cls}.cpp", f"docs/rules/{rule}.md",
                           f"cocci/{rule}.cocci")
               if not os.path.exists(os.path.join(REPO, p))]
    if not glob.glob(os.path.join(REPO, "tests", "fixtures", rule, "*.c")):
        missing.append(f"tests/fixtures/{rule}/*.c")
    assert not missing, f"{rule}: missing {', '.join(missing)}"
    cmake = open(os.path.join(REPO, "CMakeLists.txt")).read()
    assert f"checkers/rules/{cls}.cpp" in cmake, f"{cls}.cpp is not built"


def test_rule_ids_are_catalogued():
    """A rule id spelled in a rule source must be in the catalogue."""
    ids = {r for _, r in RULES}
    for src in glob.glob(os.path.join(REPO, "checkers", "rules", "*.cpp")):
        for rid in re.findall(r'"(rt-[\w-]+)"', open(src).read()):
            assert rid in ids, f"{os.path.basename(src)} uses uncatalogued rule id {rid}"


def test_generated_cocci_is_current():
    """cocci/rt-atomic-sleep.cocci is generated: edit the generator's input."""
    import subprocess
    gen = os.path.join(REPO, "cocci", "gen", "rt-atomic-sleep.py")
    out = subprocess.run(["/usr/bin/python3", gen, gen[:-3] + ".cocci.in"],
                         capture_output=True, text=True, check=True).stdout
    assert out == open(os.path.join(REPO, "cocci", "rt-atomic-sleep.cocci")).read(), \
        "regenerate: cocci/gen/rt-atomic-sleep.py cocci/gen/rt-atomic-sleep.cocci.in > cocci/rt-atomic-sleep.cocci"
