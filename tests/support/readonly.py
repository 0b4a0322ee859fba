"""Write-protect a folder for real, even for root (who ignores file modes).

An unprivileged user gets ``chmod -R a-w``; root gets the immutable attribute
(``chattr +i``), which the kernel enforces against root too. Where neither can be had
(a file system without attributes), the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def write_protected(root: Path) -> Iterator[None]:
    """Every file and folder under ``root`` read-only while the block runs, then restored."""
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in [root, *root.rglob("*")]}
        for path, mode in modes.items():
            path.chmod(stat.S_IMODE(mode) & ~0o222)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(stat.S_IMODE(mode))
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "-R", "+i", str(root)], check=False).returncode:
        pytest.skip("running as root without chattr +i: no way to write-protect a folder")
    try:
        probe = root / ".write-probe"
        with pytest.raises(PermissionError):
            probe.write_text("x")
        yield
    finally:
        subprocess.run([chattr, "-R", "-i", str(root)], check=True)
