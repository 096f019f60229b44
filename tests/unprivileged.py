"""Run a child process that meets file permissions as an ordinary user does, also when the tests run as root.

Tests usually run as root in containers, where `chmod 000` blocks nothing. As root, the child is started
through util-linux's `setpriv` with the two capabilities that override file permissions taken out of its
bounding set (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): it is still root, owner of its own files and of the
Python install, but a file or folder whose mode forbids it is forbidden to it too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_DROP = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`args` run from the project folder, without root's power over permissions when run as root."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.fail("running as root needs util-linux's setpriv to test file permissions")
        prefix = _DROP
    return subprocess.run([*prefix, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
