"""External programs some tests need (Debian packages installed by .ci/run).

Outside CI a missing tool skips the test; in CI (``CI`` set) it fails it: a green CI
run must not hide a test that did not run.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(*programs: str) -> None:
    missing = [name for name in programs if shutil.which(name) is None]
    if not missing:
        return
    message = f"needs {', '.join(missing)} (installed by .ci/run)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
