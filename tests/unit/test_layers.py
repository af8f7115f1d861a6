"""The layering, as import-linter contracts (pyproject.toml, [tool.importlinter]):
the screens are clients of the service, the client and the wire stay light, the
core never reaches the user interface, the domain stays pure."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")  # installed with the test extras
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
