"""Why the zoo keeps its own downloader: ``torch.hub.download_url_to_file`` on the same cases.

Issue 10 asks whether torch's maintained downloader could replace
``moco_plugin.zoo.download.download_file``. Both verify the checksum before
the file appears under its final name and leave nothing behind when it fails;
torch.hub cannot resume a cut transfer (it deletes its partial file and the
next call starts at byte 0) and does not lock the folder. Should a torch
release change that, these tests fail and the question is worth asking again
(numbers: benchmarks/results/library_ab/README.md).
"""
from __future__ import annotations

import os

import pytest
import torch

from moco_plugin.zoo import Checksum, ChecksumError, DownloadError, download_file
from tests.test_zoo.helpers import sha256_bytes

PAYLOAD = os.urandom(3 * 1024 * 1024 + 7)
CUT = 1_000_000


@pytest.fixture
def served(server):
    server.files['/ckpt.pth'] = PAYLOAD
    return server


def test_cut_transfer_torch_hub_restarts_from_zero_project_resumes(served, tmp_path):
    hub_dir, ours_dir = tmp_path / 'hub', tmp_path / 'ours'
    hub_dir.mkdir()
    served.drop_after['/ckpt.pth'] = CUT
    with pytest.raises(Exception):  # http.client.IncompleteRead: the connection closed early
        torch.hub.download_url_to_file(served.url('/ckpt.pth'), str(hub_dir / 'c.pth'),
                                       hash_prefix=sha256_bytes(PAYLOAD), progress=False)
    assert list(hub_dir.iterdir()) == []  # the partial file is deleted: nothing to resume from
    torch.hub.download_url_to_file(served.url('/ckpt.pth'), str(hub_dir / 'c.pth'),
                                   hash_prefix=sha256_bytes(PAYLOAD), progress=False)
    assert (hub_dir / 'c.pth').read_bytes() == PAYLOAD
    assert served.requests == [('/ckpt.pth', None), ('/ckpt.pth', None)]  # whole file twice

    served.requests.clear()
    served.drop_after['/ckpt.pth'] = CUT
    with pytest.raises(DownloadError, match='interrupted'):
        download_file(served.url('/ckpt.pth'), ours_dir / 'c.pth',
                      Checksum(sha256=sha256_bytes(PAYLOAD)), progress=False, retries=0)
    assert sorted(p.name for p in ours_dir.iterdir()) == ['c.pth.part']
    download_file(served.url('/ckpt.pth'), ours_dir / 'c.pth',
                  Checksum(sha256=sha256_bytes(PAYLOAD)), progress=False, retries=0)
    assert (ours_dir / 'c.pth').read_bytes() == PAYLOAD
    assert served.requests == [('/ckpt.pth', None), ('/ckpt.pth', f'bytes={CUT}-')]  # the rest only


def test_both_verify_before_the_final_name_and_leave_nothing_on_mismatch(served, tmp_path):
    wrong = sha256_bytes(b'another file')
    hub_dir, ours_dir = tmp_path / 'hub', tmp_path / 'ours'
    hub_dir.mkdir()
    with pytest.raises(RuntimeError, match='invalid hash value'):
        torch.hub.download_url_to_file(served.url('/ckpt.pth'), str(hub_dir / 'c.pth'),
                                       hash_prefix=wrong, progress=False)
    assert list(hub_dir.iterdir()) == []
    with pytest.raises(ChecksumError, match='checksum mismatch'):
        download_file(served.url('/ckpt.pth'), ours_dir / 'c.pth', Checksum(sha256=wrong),
                      progress=False)
    assert list(ours_dir.iterdir()) == []
