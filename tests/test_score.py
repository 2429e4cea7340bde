"""bench/score: the accuracy benchmark on the public ground truth (Linux 6.1).

The score itself is reported, not asserted; this keeps the current hits hits and
the no-report entries of implemented rules clean, and checks the parsers of the
ground truth's free-text fields on real values."""
import importlib.machinery
import importlib.util
import json
import os
import subprocess

import pytest

from conftest import REPO

SCORE = os.path.join(REPO, "bench", "score")
# Hits today.
MUST_HIT = ["D12", "D13", "D14", "D19", "B18", "B19",
            "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A25", "X03",
            "A11", "A12", "A13"]  # the xdp flush lists: cross-TU, from virtio_net's NAPI poll
MUST_BE_CLEAN = ["C02"]


def load_score():
    loader = importlib.machinery.SourceFileLoader("bench_score", SCORE)
    spec = importlib.util.spec_from_loader("bench_score", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


score = load_score()


@pytest.fixture(scope="module")
def result(build_61, tmp_path_factory):
    out = tmp_path_factory.mktemp("score") / "score.json"
    proc = subprocess.run([SCORE, "--build", build_61, "--json", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with open(out) as f:
        doc = json.load(f)
    doc["_stdout"] = proc.stdout
    return doc


def entries(doc):
    return {e["id"]: e for e in doc["entries"]}


def test_rtcheck_checked_every_file(result):
    run = result["rtcheck"]
    assert run and run["version"], result["_stdout"]
    assert run["failed_files"] == [], "\n".join(run["errors"])


@pytest.mark.parametrize("entry_id", MUST_HIT)
def test_current_hits_stay_hits(result, entry_id):
    e = entries(result)[entry_id]
    assert e["verdict"] == "hit", f"{entry_id}: {e['verdict']} {e['reason']}"
    assert e["match"]["rule"] == e["rule"]


@pytest.mark.parametrize("entry_id", MUST_BE_CLEAN)
def test_clean_entries_stay_clean(result, entry_id):
    e = entries(result)[entry_id]
    assert e["verdict"] == "clean", f"{entry_id}: {e['verdict']} {e['matches']}"


def test_no_report_entries_not_violated(result):
    implemented = set(result["implemented_rules"])
    bad = [f"{e['id']} ({e['rule']}): {e['verdict']} "
           f"{[(m['file'], m['line'], m['function']) for m in e['matches']]}"
           for e in result["entries"]
           if e["expect"] == "no-report" and e["rule"] in implemented
           and e["verdict"] not in ("clean", "skipped")]
    assert not bad, "\n".join(bad)


def test_skips_are_listed(result):
    by_id = entries(result)
    assert by_id["D15"]["verdict"] == "skipped" and "arch" in by_id["D15"]["reason"]
    assert by_id["X01"]["verdict"] == "skipped" and "arch" in by_id["X01"]["reason"]
    for either in ("C04", "C05", "C06"):  # C05/C06: sleepable non-owner uses, notes
        assert by_id[either]["verdict"] == "skipped" and "either" in by_id[either]["reason"]
    for e in result["entries"]:
        if e["rule"] not in result["implemented_rules"]:
            assert e["reason"] == "rule not implemented", e["id"]
    for rule, row in result["rules"].items():
        if row["implemented"] and row["report_scored"]:
            assert row["recall"] == round(100.0 * row["hits"] / row["report_scored"], 1)


# --- the field parsers, on values of public-ground-truth-6.1.json ---------------------

@pytest.mark.parametrize("text,want", [
    ("bpf_csum_diff (BPF_CALL_5)", ["bpf_csum_diff"]),                                # A09
    ("perf_pending_task -> perf_sigtrap -> send_sig_perf",                             # D13
     ["perf_pending_task", "perf_sigtrap", "send_sig_perf"]),
    ("zram_slot_lock/unlock; zram_free_page, __zram_bvec_write, __zram_bvec_read, "   # D14
     "writeback_store",
     ["zram_slot_lock", "zram_slot_unlock", "zram_free_page", "__zram_bvec_write",
      "__zram_bvec_read", "writeback_store"]),
    ("do_mmap_read_unlock (irq_work), bpf_find_vma",                                   # C02
     ["do_mmap_read_unlock", "bpf_find_vma"]),
    ("__bpf_get_stack (bpf_get_stack/bpf_get_task_stack/bpf_get_stack_pe)",            # B-R04
     ["__bpf_get_stack"]),
    ("htab_lock_bucket / htab_unlock_bucket", ["htab_lock_bucket", "htab_unlock_bucket"]),
    ("tcp_get_md5sig_pool / tcp_put_md5sig_pool; callers tcp_v4_md5_hash_hdr/_skb "   # A02
     "(tcp_ipv4.c 1363,1406), tcp_v6_md5_hash_* (tcp_ipv6.c 704,748)",
     ["tcp_get_md5sig_pool", "tcp_put_md5sig_pool", "tcp_v4_md5_hash_hdr",
      "tcp_v4_md5_hash_skb", "tcp_v6_md5_hash_*"]),
    ("input_action_end_bpf, seg6_bpf_has_valid_srh; BPF helpers "                     # A08
     "bpf_lwt_seg6_store_bytes, bpf_update_srh_state",
     ["input_action_end_bpf", "seg6_bpf_has_valid_srh", "bpf_lwt_seg6_store_bytes",
      "bpf_update_srh_state"]),
    ("xdp_do_redirect_frame, xdp_do_generic_redirect(_map), bpf_xdp_redirect, "       # A10
     "bpf_prog_run_xdp (filter.h:803)",
     ["xdp_do_redirect_frame", "xdp_do_generic_redirect", "xdp_do_generic_redirect_map",
      "bpf_xdp_redirect", "bpf_prog_run_xdp"]),
    ("__napi_alloc_frag_align, __netdev_alloc_frag_align (BH branch), napi_skb_cache_get",
     ["__napi_alloc_frag_align", "__netdev_alloc_frag_align", "napi_skb_cache_get"]),  # A01
])
def test_parse_functions(text, want):
    assert score.parse_functions(text) == want


@pytest.mark.parametrize("text,want", [
    ("69, 126, 129, 151", [(None, 69, 69), (None, 126, 126), (None, 129, 129),         # C05
                           (None, 151, 151)]),
    ("2316-2326 (2322 preempt_disable, 2324 cgroup_enter_frozen)", [(None, 2316, 2326)]),
    ("helpers.c 1191-1246 (1211 lock, 1221 alloc); verifier.c 5746-5749 RT gate",     # D19
     [("helpers.c", 1191, 1246), ("verifier.c", 5746, 5749)]),
    ("4498 (def), 4572-4582, include/net/tcp.h 1782-1785",                            # A02
     [(None, 4498, 4498), (None, 4572, 4582), ("include/net/tcp.h", 1782, 1785)]),
    ("seg6_local.c 1015 (def), 1020; filter.c 6450",                                  # A08
     [("seg6_local.c", 1015, 1015), ("seg6_local.c", 1020, 1020), ("filter.c", 6450, 6450)]),
])
def test_parse_lines(text, want):
    assert score.parse_lines(text) == want


@pytest.mark.parametrize("text,tus,headers", [
    ("fs/nfs/unlink.c", ["fs/nfs/unlink.c"], []),
    ("net/ipv4/tcp.c (+ include/net/tcp.h)", ["net/ipv4/tcp.c"], ["include/net/tcp.h"]),
    ("net/ipv6/seg6_local.c + net/core/filter.c",
     ["net/ipv6/seg6_local.c", "net/core/filter.c"], []),
    ("include/linux/mmap_lock.h", [], ["include/linux/mmap_lock.h"]),
])
def test_parse_files(text, tus, headers):
    assert score.parse_files(text) == (tus, headers)


def test_match_bpf_call_function_and_lines():
    entry = {"id": "D19", "rule": "rt-atomic-sleep", "expect": "report", "arch": "x86_64",
             "file": "kernel/bpf/helpers.c (+ kernel/bpf/verifier.c)",
             "functions": "bpf_timer_init (BPF_CALL_3)",
             "lines": "helpers.c 1191-1246 (1211 lock, 1221 alloc); verifier.c 5746-5749 RT gate"}
    score.plan([entry], ["rt-atomic-sleep"], [])
    hit = {"rule": "rt-atomic-sleep", "file": "kernel/bpf/helpers.c", "line": 1221,
           "function": "____bpf_timer_init", "message": "m"}
    assert score.match_finding(hit, entry) == "function+line"
    assert score.match_finding(dict(hit, line=900), entry) == "function"
    assert score.match_finding(dict(hit, function="other"), entry) == "line"
    assert score.match_finding(dict(hit, file="kernel/bpf/syscall.c"), entry) is None
