"""Frames on a pipe between the isolation's parent, its fork server and the children (see ingest.isolation):
an 8-byte big-endian length, then the payload. A reader gives up at a deadline and refuses a frame larger than
a result may be."""

from __future__ import annotations

import os
import select
import struct
import time

#: Largest result a child may send back (bytes of JSON).
MAX_RESULT_BYTES = 128 * 1024 * 1024
_HEADER = struct.Struct(">Q")




def write_frame(fd: int, payload: bytes) -> None:
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def read_exact(fd: int, n: int, deadline: float | None) -> bytes | None:
    """n bytes from fd, or None on EOF; raises TimeoutError past the deadline."""
    chunks: list[bytes] = []
    remaining = n
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None) -> bytes | None:
    header = read_exact(fd, _HEADER.size, deadline)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if length > MAX_RESULT_BYTES + 1024:
        raise ValueError("frame too large")
    return read_exact(fd, length, deadline)
