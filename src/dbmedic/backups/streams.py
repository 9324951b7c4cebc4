"""Compressed files of a backup: writers that count and hash, readers, statement framing.

Every file is hashed while it is written (the sha256 of the bytes on disk), so the manifest costs
no second read. SQL data files frame each statement with a comment line giving its length
(``-- dbmedic:stmt 1234``): still plain SQL for a human, and split exactly without parsing SQL.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dbmedic.backups.manifest import FileEntry
from dbmedic.errors import BackupError

ZSTD_LEVEL = 1
"""zstd level 1: about twice as fast as level 3 for ~7 % more bytes. The fast (negative) levels
compress no literals: on the benchmark's repetitive rows -1 saved 18 % of the compression CPU for
2 % more bytes, but on source code it made 19 % more bytes, on hex (--hex-blob, bytea) 68 %."""

SUFFIX = {"zstd": ".zst", "gzip": ".gz", "none": ""}
COMPRESSIONS = tuple(SUFFIX)
STMT = b"-- dbmedic:stmt "


class _HashingFile(io.RawIOBase):
    """A binary file that hashes and counts what is written to it."""

    def __init__(self, path: Path) -> None:
        self._f = path.open("xb")
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._f.write(view)
        self.sha.update(view)
        self.size += len(view)
        return len(view)

    def flush(self) -> None:
        if not self._f.closed:
            self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()
        super().close()


FRAME_BYTES = 1 << 20
"""Input of one zstd frame (at least; a larger write is one frame of its own)."""


class _ZstdFrames:
    """zstd output as frames of about FRAME_BYTES of input, each compressed in one call.

    zstd's streaming compressor copies its input into a ring buffer, and the blocks that match
    across the ring's seam take its slower "extDict" path (most blocks at level 1); a frame
    compressed from one buffer does not: 16 % less compression CPU for 0.1 % more bytes on the
    benchmark's rows (bench/RESULTS.md). A write of FRAME_BYTES or more (a statement's rows) is
    a frame of its own, compressed where it lies; the small writes before it (its framing line
    and INSERT head) are one frame, rather than copying the rows to join them. Readers read
    across frames."""

    def __init__(self, raw: _HashingFile) -> None:
        import zstandard

        self._cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._raw = raw
        self._pending: list[bytes] = []
        self._size = 0
        self._frames = 0

    def write(self, data: bytes) -> None:
        if len(data) >= FRAME_BYTES:
            if self._pending:
                self._flush()
            self._compress(data)
            return
        self._pending.append(data if type(data) is bytes else bytes(data))
        self._size += len(data)
        if self._size >= FRAME_BYTES:
            self._flush()

    def _flush(self) -> None:
        pending = self._pending
        self._compress(pending[0] if len(pending) == 1 else b"".join(pending))
        self._pending, self._size = [], 0

    def _compress(self, data: Any) -> None:
        self._raw.write(self._cctx.compress(data))
        self._frames += 1

    def close(self) -> None:
        if self._pending or not self._frames:  # an empty file is still one (empty) frame
            self._flush()


class Writer:
    """Write one (compressed) file of a backup; :meth:`close` returns its :class:`FileEntry`."""

    def __init__(self, root: Path, name: str, compression: str) -> None:
        self.name = name + SUFFIX[compression]
        self.path = root / self.name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._raw = _HashingFile(self.path)
        self._stream: Any
        if compression == "zstd":
            self._stream = _ZstdFrames(self._raw)
        elif compression == "gzip":
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=1, mtime=0)
        else:
            self._stream = self._raw
        self.raw_bytes = 0

    def write(self, data: bytes) -> None:
        self._stream.write(data)
        self.raw_bytes += len(data)

    def statement(self, *pieces: bytes) -> None:
        """Write one SQL statement (the concatenation of ``pieces``) with its framing line;
        the pieces are written one by one, never copied into one string."""
        self.write(STMT + str(sum(map(len, pieces))).encode() + b"\n")
        for piece in pieces:
            self.write(piece)
        self.write(b";\n")

    def close(self) -> FileEntry:
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.flush()
        self._raw.close()
        return FileEntry(self.name, self._raw.size, self._raw.sha.hexdigest())

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._raw.close()


def write_file(root: Path, name: str, compression: str, data: bytes) -> FileEntry:
    """Write one whole (compressed) file; on an error nothing stays open."""
    writer = Writer(root, name, compression)
    try:
        writer.write(data)
        return writer.close()
    except BaseException:
        writer.abort()
        raise


def compression_of(name: str) -> str:
    for kind, suffix in SUFFIX.items():
        if suffix and name.endswith(suffix):
            return kind
    return "none"


def open_reader(path: Path) -> IO[bytes]:
    """A buffered binary reader of a backup file, decompressed according to its suffix."""
    kind = compression_of(path.name)
    raw = path.open("rb")
    if kind == "zstd":
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return io.BufferedReader(stream, 1 << 20)  # type: ignore[arg-type]
    if kind == "gzip":
        return io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), 1 << 20)  # type: ignore[arg-type]
    return io.BufferedReader(raw, 1 << 20)


def statements(path: Path) -> Iterator[bytes]:
    """The SQL statements of a framed data file, in order; raises BackupError on a bad frame."""
    with open_reader(path) as f:
        while header := f.readline():
            if not header.startswith(STMT):
                raise BackupError(
                    f"{path} is damaged (bad statement frame)", hint="use another backup"
                )
            size = int(header[len(STMT) :])
            body = f.read(size + 2)
            if len(body) != size + 2:
                raise BackupError(f"{path} is truncated", hint="use another backup")
            yield body[:size]


def disk_error(e: OSError, where: Path) -> BackupError:
    """One sentence for a write failure: full disk, permission, anything else."""
    if e.errno == errno.ENOSPC:
        return BackupError(
            f"the disk holding {where} is full; the incomplete backup was removed",
            hint="free some space or choose another --dir",
        )
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return BackupError(
            f"cannot write to {where} ({e.strerror})", hint="choose a writable --dir"
        )
    return BackupError(f"cannot write the backup to {where} ({e.strerror or e})")
