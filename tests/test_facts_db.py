"""The facts database in single-file mode (issue 17, docs/facts-db.md):
`rtcheck facts` keeps a sweep's summaries of the TUs under PATH, and
`rtcheck check --facts DB FILE` adds the findings whose context or callee is in
another file. On the real 6.12 rt tree: net/core/dst_cache.c's per-CPU cache is
used with only BH disabled by seg6_iptunnel.c's local_bh_disable() section and
by sit's ndo_start_xmit(); dst_cache.c alone has no BH context."""
import json
import os

import pytest

from conftest import run_rtcheck

FILE = "net/core/dst_cache.c"
CALLERS = ["net/ipv6/seg6_iptunnel.c", "net/ipv6/sit.c"]


@pytest.fixture(scope="module")
def facts_db(tmp_path_factory, rt_build):
    db = str(tmp_path_factory.mktemp("facts") / "facts.db")
    proc = run_rtcheck("facts", "--build", rt_build, "--db", db, FILE, *CALLERS)
    assert proc.returncode == 0, proc.stderr
    assert os.path.exists(db) and os.path.isdir(db + ".out")
    return db


def check(*args):
    proc = run_rtcheck("check", "--format", "json", "--rules", "rt-percpu-bh", *args, FILE)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["findings"]


def test_alone_the_file_has_no_bh_context():
    assert check() == []


def test_the_database_gives_the_other_files_contexts(facts_db):
    found = check("--facts", facts_db)
    assert [(f["file"], f["function"]) for f in found] == [(FILE, "dst_cache_get")]
    chain_files = {c["file"] for c in found[0]["context"]}
    assert FILE in chain_files and chain_files & set(CALLERS)
    assert "crosses translation units" in found[0]["message"] or found[0].get("cross_tu")


def test_the_environment_names_the_database(facts_db):
    proc = run_rtcheck("check", "--format", "json", "--rules", "rt-percpu-bh", FILE,
                       env=dict(os.environ, RTCHECK_FACTS=facts_db))
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["findings"]) == 1
    assert check("--no-facts") == []


def test_a_missing_database_is_an_input_error(tmp_path):
    proc = run_rtcheck("check", "--facts", str(tmp_path / "none.db"), FILE)
    assert proc.returncode == 3
    assert "facts database" in proc.stderr and "rtcheck facts" in proc.stderr


def test_a_database_of_another_schema_is_an_input_error(tmp_path):
    import sqlite3
    db = str(tmp_path / "old.db")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT INTO meta VALUES('schema', '1')")
    con.commit()
    con.close()
    proc = run_rtcheck("check", "--facts", db, FILE)
    assert proc.returncode == 3
    assert "schema version 1" in proc.stderr and proc.stderr.count("error:") == 1
