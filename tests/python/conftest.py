"""Shared fixtures for the numpy cross-checks: where the built tools and the fixtures are."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tool():
    """Run a built gkd tool (GKD_BIN_DIR or target/release) and return its completed process."""
    bin_dir = pathlib.Path(os.environ.get("GKD_BIN_DIR", ROOT / "target" / "release"))

    def run(name, *args, cwd, check=True):
        exe = bin_dir / name
        assert exe.exists(), f"{exe} is not built"
        proc = subprocess.run([str(exe), *map(str, args)], cwd=cwd, capture_output=True, text=True)
        assert proc.returncode == 0 or not check, proc.stderr
        return proc

    return run


@pytest.fixture(scope="session")
def data():
    return lambda rel: ROOT / "test-data" / rel


@pytest.fixture(scope="session")
def schema():
    import json

    return lambda name: json.loads((ROOT / "schemas" / name).read_text())
