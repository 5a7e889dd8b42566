"""Crash-test fixtures: make the repository root importable so ``benchmarks`` resolves.

``python -m pytest`` (make test) puts the working directory on ``sys.path``; a bare ``pytest``
with ``--import-mode=importlib`` does not, and the harness lives in ``benchmarks/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
