"""Helpers several test modules share (importable: tests/ is on sys.path under pytest)."""

import contextlib
import os
import signal

import posterml.io as pio


@contextlib.contextmanager
def time_limit(seconds):
    """Turn a hang into a failure (POSIX only; elsewhere no limit)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum, frame):
        raise TimeoutError(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def deny_open(monkeypatch, paths):
    """Make ``paths`` (mode-000 files) unreadable for this process too.

    Root reads any file whatever its mode; there the ``open()`` in posterml.io fails for
    exactly those files with the ``PermissionError`` anyone else gets.
    """
    denied = {os.fsdecode(p) for p in paths if os.access(p, os.R_OK)}
    if not denied:
        return
    real_open = open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and os.fsdecode(file) in denied:
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(pio, "open", guarded_open, raising=False)
