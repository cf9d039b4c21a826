"""Quick exits for processes that leave a large heap behind (torch, thousands of pages)."""
from __future__ import annotations

import atexit
import gc

_registered = False


def freeze_heap_at_exit() -> None:
    """Freeze every object once the interpreter starts to exit.

    Python's shutdown runs a garbage collection over the whole heap: about half
    a second after torch is imported or a large site is built, with nothing to
    gain since the process is ending (plain reference counting still frees and
    closes what it can). Registering twice has no further effect.
    """
    global _registered
    if not _registered:
        atexit.register(gc.freeze)
        _registered = True
