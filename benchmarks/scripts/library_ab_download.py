"""Download speed of ``torch.hub.download_url_to_file`` and the zoo's ``download_file``.

Part of ``benchmarks/scripts/library_ab.py``: both fetch the same random file from an
HTTP server on 127.0.0.1 (nothing else is reached), both verify its SHA-256;
their other differences (resume, lock) are tested in
``tests/test_zoo/test_download_vs_torch_hub.py``.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import tempfile
import threading
from pathlib import Path

import torch

from moco_plugin.zoo.download import Checksum, download_file


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def download_speed(megabytes: int, reps: int, interleaved_rates) -> dict:
    """MB/s of both on a ``megabytes`` file, timed by ``interleaved_rates`` of library_ab."""
    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp, 'served')
        served.mkdir()
        payload = Path(served, 'ckpt.pth')
        with open(payload, 'wb') as handle:  # benchmark input in a temporary folder
            for _ in range(megabytes):
                handle.write(os.urandom(1 << 20))
        sha256 = hashlib.sha256(payload.read_bytes()).hexdigest()
        handler = functools.partial(_QuietHandler, directory=str(served))
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f'http://127.0.0.1:{server.server_address[1]}/ckpt.pth'
        counter = iter(range(10 ** 6))

        def hub():  # a new destination each time (no cache hit); the copy is deleted right away
            dest = Path(tmp, f'h{next(counter)}.pth')
            torch.hub.download_url_to_file(url, str(dest), hash_prefix=sha256, progress=False)
            dest.unlink()

        def ours():
            dest = Path(tmp, f'o{next(counter)}', 'ckpt.pth')
            download_file(url, dest, Checksum(sha256=sha256), progress=False)
            dest.unlink()

        try:
            rates = interleaved_rates({'project': ours, 'torch_hub': hub}, megabytes, reps, warmup=1)
        finally:
            server.shutdown()
    row = dict(megabytes=megabytes, reps=reps, unit='MB/s', **rates)
    print(json.dumps(row), flush=True)
    return row
