"""Checkpoint downloads: cache, resume, checksum verification, progress bar.

Standard library only (``urllib``), so no new dependency. The protocol:

1. A verified file already at the cache path is returned without any network access
   (so a cached checkpoint works offline).
2. Otherwise bytes go to ``<file>.part`` next to it. If a ``.part`` exists (an earlier
   transfer was cut), the request carries ``Range: bytes=<size>-`` and the transfer
   continues where it stopped; a server that ignores ``Range`` restarts it.
3. The complete ``.part`` is checked against the expected checksum and only then
   renamed into place (atomic), so the cache never holds a checkpoint that failed
   verification. On a mismatch or an HTTP error the ``.part`` is deleted; after a
   dropped connection it is kept (that is what the next run resumes from).

One process at a time downloads into a cache folder (an ``flock`` on the folder),
so ranks of a distributed job that all ask for the same checkpoint download it once.
"""
from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from moco_plugin.utils.hashing import CHUNK_BYTES

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no inter-process lock
    fcntl = None

USER_AGENT = 'moco-plugin-model-zoo'


class DownloadError(RuntimeError):
    """A download failed; the message says what failed and what to do."""


class ChecksumError(DownloadError):
    """A file does not have the expected checksum."""


class TransferInterrupted(Exception):
    """The connection ended before the whole file arrived (resumable)."""


@dataclass(frozen=True)
class Checksum:
    """Expected digests of a file.

    Attributes:
        sha256: Full SHA-256 hex digest.
        md5_prefix: Leading hex digits of the MD5 digest (how the official MoCo
            releases publish theirs).
    """

    sha256: Optional[str] = None
    md5_prefix: Optional[str] = None

    def __post_init__(self) -> None:
        if self.sha256 is None and self.md5_prefix is None:
            raise ValueError('a Checksum needs sha256 or md5_prefix')

    def mismatch(self, path: Path) -> Optional[str]:
        """``None`` if ``path`` matches, else ``'expected ..., got ...'``."""
        sha256 = hashlib.sha256() if self.sha256 else None
        md5 = hashlib.md5() if self.md5_prefix else None
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(CHUNK_BYTES), b''):
                for digest in (sha256, md5):
                    if digest is not None:
                        digest.update(block)
        if sha256 is not None and sha256.hexdigest() != self.sha256.lower():
            return f'expected sha256 {self.sha256}, got {sha256.hexdigest()}'
        if md5 is not None and not md5.hexdigest().startswith(self.md5_prefix.lower()):
            return f'expected md5 starting with {self.md5_prefix}, got {md5.hexdigest()}'
        return None


def part_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` is kept."""
    return dest.with_name(dest.name + '.part')


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    # flock on the folder itself: no lock file is left behind in the cache.
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _content_range_start(header: Optional[str]) -> Optional[int]:
    match = re.match(r'bytes (\d+)-', header or '')
    return int(match.group(1)) if match else None


def _open(url: str, offset: int, timeout: float):
    headers = {'User-Agent': USER_AGENT}
    if offset:
        headers['Range'] = f'bytes={offset}-'
    return urlopen(Request(url, headers=headers), timeout=timeout)


def _transfer(url: str, dest: Path, progress: bool, timeout: float) -> None:
    """Append the rest of ``url`` to the part file of ``dest``.

    Raises:
        TransferInterrupted: The connection ended early (the part file is resumable).
    """
    from tqdm import tqdm

    part = part_path(dest)
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout)
    except HTTPError as err:
        if err.code == 416 and offset:
            return  # nothing left to send: the part is complete (the checksum decides)
        part.unlink(missing_ok=True)
        raise DownloadError(f'cannot download {url}: HTTP {err.code} {err.reason}') from None
    except (URLError, OSError) as err:
        reason = getattr(err, 'reason', err)
        raise DownloadError(f'cannot reach {url} ({reason}); check the network connection, or put '
                            f'the file at {dest} to use it offline') from None
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored the Range request and sends the whole file
        elif offset and _content_range_start(response.headers.get('Content-Range')) != offset:
            part.unlink(missing_ok=True)
            raise TransferInterrupted('the server resumed at an unexpected offset; restarting')
        length = response.headers.get('Content-Length')
        total = offset + int(length) if length is not None else None
        written = offset
        with open(part, 'ab' if offset else 'wb') as handle, tqdm(
                total=total, initial=offset, unit='B', unit_scale=True, unit_divisor=1024,
                desc=dest.name, disable=not progress, leave=False) as bar:
            while True:
                try:  # only network errors are resumable; a full disk is not
                    block = response.read(CHUNK_BYTES)
                except (http.client.HTTPException, OSError) as err:
                    raise TransferInterrupted(
                        f'{type(err).__name__} after {written} bytes') from None
                if not block:
                    break
                handle.write(block)
                written += len(block)
                bar.update(len(block))
    if total is not None and written < total:
        raise TransferInterrupted(f'connection closed after {written} of {total} bytes')


def _mismatch(path: Path, checksum: Optional[Checksum]) -> Optional[str]:
    return None if checksum is None else checksum.mismatch(path)


def download_file(url: str, dest: Path, checksum: Optional[Checksum], progress: bool = True,
                  retries: int = 2, retry_wait_s: float = 1.0, timeout_s: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` unless a verified copy is already there.

    Args:
        url: ``http://`` or ``https://`` URL.
        dest: Final path of the file.
        checksum: What the file must hash to; ``None`` only for ad-hoc URLs that
            publish no checksum (the file is then trusted as downloaded).
        progress: Show a tqdm progress bar on stderr.
        retries: How many times a dropped connection is resumed within this call.
        retry_wait_s: Pause before each resume.
        timeout_s: Socket timeout of each request.

    Returns:
        ``dest``.

    Raises:
        DownloadError: HTTP error (nothing is left behind), unreachable host, or a
            transfer still cut after ``retries`` resumes (the ``.part`` stays for the
            next call to resume).
        ChecksumError: The downloaded bytes do not match (the ``.part`` is deleted).
    """
    dest = Path(dest)
    if dest.is_file() and _mismatch(dest, checksum) is None:
        return dest  # cache hit: no network access at all
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(dest.parent):
        if dest.is_file():
            if _mismatch(dest, checksum) is None:
                return dest  # another process finished it while we waited for the lock
            dest.unlink()  # a corrupted cached file is downloaded again
        part = part_path(dest)
        for attempt in range(retries + 1):
            try:
                _transfer(url, dest, progress, timeout_s)
                break
            except TransferInterrupted as err:
                if attempt == retries:
                    raise DownloadError(
                        f'download of {url} interrupted ({err}); run the same command again to '
                        f'resume from {part}') from None
                time.sleep(retry_wait_s)
        problem = _mismatch(part, checksum)
        if problem is not None:
            part.unlink(missing_ok=True)
            raise ChecksumError(f'checksum mismatch for {url}: {problem}; the download was '
                                'deleted, run again to retry (if it persists, the file on the '
                                'server changed)')
        os.replace(part, dest)
    return dest
