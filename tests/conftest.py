"""Shared pytest fixtures: the prepared kernel trees and the rtcheck commands."""
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Single-file checks see only the file unless a test gives a facts database:
# not the one "rtcheck facts" may have left for the build on this machine.
os.environ["RTCHECK_FACTS"] = ""
RTCHECK = os.path.join(REPO, "rtcheck")
FIXTURES = os.path.join(REPO, "tests", "fixtures")


def prepared_tree(version="6.12", config="rt", src=False):
    """Build (or src) dir of a prepared kernel tree; prepares it on first use."""
    cmd = [os.path.join(REPO, "scripts", "prepare-tree"), "--version", version,
           "--config", config] + (["--print-src"] if src else [])
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="session")
def rt_build():
    return prepared_tree("6.12", "rt")


@pytest.fixture(scope="session")
def nort_build():
    return prepared_tree("6.12", "nort")


@pytest.fixture(scope="session")
def src_612():
    return prepared_tree("6.12", "rt", src=True)


@pytest.fixture(scope="session")
def build_61():
    return prepared_tree("6.1", "nort")


@pytest.fixture(scope="session")
def src_61():
    return prepared_tree("6.1", "nort", src=True)


def run_rtcheck(*args, **kw):
    """Run the rtcheck launcher; returns CompletedProcess (text, captured)."""
    return subprocess.run([RTCHECK, *args], capture_output=True, text=True, **kw)
