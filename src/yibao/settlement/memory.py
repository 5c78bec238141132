"""How a year's batch uses freed memory (process-wide settings, chosen from the year's size). Apart
from the batch so that a command can choose, and start reading the lake (:func:`lake_files`), before it
imports the engine."""

from __future__ import annotations

import pyarrow as pa

LARGE_BATCH = 500_000  # claims from which a batch keeps freed memory for reuse
_MEMORY_KEPT = False


def keep_freed_memory(claims: int = LARGE_BATCH, limit: int = 1 << 30) -> bool:
    """For a batch of at least ``LARGE_BATCH`` claims, let glibc's malloc keep up to ``limit`` bytes of
    freed memory for reuse instead of returning it to the system after every chunk: a year's batch
    allocates and frees the same megabyte-sized arrays chunk after chunk, and faulting fresh pages in
    costs more than the arithmetic (measured by ``benchmarks/settle.py``: about half the
    single-thread time of a 10M-claim year). Process-wide and once; a no-op where the C library is
    not glibc. Returns whether the setting is in force."""
    global _MEMORY_KEPT
    if _MEMORY_KEPT or claims < LARGE_BATCH:
        return _MEMORY_KEPT
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc <malloc.h>
        _MEMORY_KEPT = bool(libc.mallopt(m_trim_threshold, limit)) and bool(libc.mallopt(m_mmap_threshold, limit))
    except (OSError, AttributeError):
        _MEMORY_KEPT = False
    return _MEMORY_KEPT


LARGE_LAKE = 2_000_000  # claims from which a lake's year keeps freed memory rather than returning it


def lake_memory(claims: int) -> str:
    """How a lake's year of ``claims`` uses freed memory, chosen from its size; returns the choice.
    Every part (about 50,000 persons) needs the same working memory whatever the lake's size, so for a
    small lake that memory is most of the peak: Arrow's buffers then go through its jemalloc pool,
    which hands freed pages back (the default mimalloc pool holds them, about a fifth of a 100,000-person
    lake's peak). A large lake has memory to spare beside one part, and re-faulting freed pages costs
    it CPU part after part: glibc keeps numpy's freed memory (:func:`keep_freed_memory`) and Arrow
    keeps its pool. Process-wide, like :func:`keep_freed_memory`."""
    if claims >= LARGE_LAKE:
        keep_freed_memory(claims)
        return "keep"
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc: glibc's malloc also hands pages back
        pa.set_memory_pool(pa.system_memory_pool())
    return "return"


def lake_files(folder):
    """The lake's part files, the first being read, after the memory setting is chosen from their size."""
    from yibao.lake.parts import PartFiles

    return PartFiles(folder, prepare=lake_memory)


__all__ = ["LARGE_BATCH", "LARGE_LAKE", "keep_freed_memory", "lake_files", "lake_memory"]
