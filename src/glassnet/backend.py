"""The array backend: NumPy, and how this process hands memory to it.

A training step allocates the same large arrays (activations, gradients) again and again. By default
glibc gives every block over 128 KiB its own fresh `mmap` and returns it to the system when freed,
so the next step pays for a page fault on every 4 KiB it touches again. On the machines glassnet was
measured on that cost more than the arithmetic in a small network's step. Raising glibc's thresholds
keeps freed memory in the process for reuse (as PyTorch's allocator does), which made an MLP step
20-40% faster. Set GLASSNET_TUNE_MALLOC=0 to leave the C library's defaults alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

import numpy as np

xp = np  # the array module glassnet computes with

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 << 20  # blocks below 64 MiB come from the heap and are reused
TRIM_THRESHOLD = 512 << 20  # keep up to 512 MiB of freed memory instead of returning it

malloc_tuned = False


def tune_malloc() -> bool:
    """Ask glibc to keep large freed blocks for reuse; True if it agreed. Does nothing (and returns
    False) on other C libraries and operating systems, or when GLASSNET_TUNE_MALLOC=0."""
    global malloc_tuned
    if malloc_tuned:
        return True
    if os.environ.get("GLASSNET_TUNE_MALLOC", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    malloc_tuned = bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return malloc_tuned
