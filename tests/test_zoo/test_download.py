"""Downloads by name from a local HTTP server: cache, checksum, resume, errors, offline."""
from __future__ import annotations

import hashlib
import os

import pytest

from moco_plugin.cli.download_checkpoint import main as download_main
from moco_plugin.zoo import (Checksum, ChecksumError, DownloadError, checkpoint_cache_dir,
                             download_checkpoint, download_file)
from moco_plugin.zoo.metafile import load_zoo
from tests.helpers.network import free_port
from tests.test_zoo.helpers import sha256_bytes, write_metafile, zoo_entry

PAYLOAD = os.urandom(3 * 1024 * 1024 + 123)  # several read chunks, not a multiple of one
NAME = 'test_ckpt'


@pytest.fixture
def served(server, tmp_path, monkeypatch):
    """The payload at /ckpt.pth, listed in an extra metafile as NAME with its sha256."""
    server.files['/ckpt.pth'] = PAYLOAD
    metafile = write_metafile(tmp_path / 'zoo.json',
                              [zoo_entry(NAME, server.url('/ckpt.pth'), sha256_bytes(PAYLOAD))])
    monkeypatch.setenv('MOCO_ZOO_FILES', str(metafile))
    return server


def cache_files() -> list:
    root = checkpoint_cache_dir()
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_download_by_name_verifies_and_caches(served):
    path = download_checkpoint(NAME, progress=False)
    assert path.parent == checkpoint_cache_dir()
    assert path.name == f'{NAME}.pth'
    assert path.read_bytes() == PAYLOAD
    assert cache_files() == [f'{NAME}.pth']  # no .part left behind
    assert served.requests == [('/ckpt.pth', None)]


def test_cache_hit_works_offline(served, monkeypatch):
    first = download_checkpoint(NAME, progress=False)

    def refuse(*args, **kwargs):
        raise AssertionError('a cached checkpoint must not touch the network')

    monkeypatch.setattr('socket.socket.connect', refuse)
    assert download_checkpoint(NAME, progress=False) == first
    assert len(served.requests) == 1


def test_checksum_mismatch_leaves_nothing_and_names_both_digests(served, tmp_path, monkeypatch):
    wrong = '0' * 64
    metafile = write_metafile(tmp_path / 'bad.json',
                              [zoo_entry('bad_ckpt', served.url('/ckpt.pth'), wrong)])
    monkeypatch.setenv('MOCO_ZOO_FILES', str(metafile))
    with pytest.raises(ChecksumError) as err:
        download_checkpoint('bad_ckpt', progress=False)
    message = str(err.value)
    assert f'expected sha256 {wrong}' in message and sha256_bytes(PAYLOAD) in message
    assert '\n' not in message
    assert cache_files() == []


def test_md5_prefix_is_verified(served, tmp_path):
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    good = download_file(served.url('/ckpt.pth'), tmp_path / 'a.pth', Checksum(md5_prefix=md5[:8]),
                         progress=False)
    assert good.read_bytes() == PAYLOAD
    wrong_prefix = ('f' if md5[0] != 'f' else '0') + md5[1:8]
    with pytest.raises(ChecksumError,
                       match=f'expected md5 starting with {wrong_prefix}, got {md5}'):
        download_file(served.url('/ckpt.pth'), tmp_path / 'b.pth',
                      Checksum(md5_prefix=wrong_prefix), progress=False)
    assert not (tmp_path / 'b.pth').exists() and not (tmp_path / 'b.pth.part').exists()


def test_interrupted_transfer_keeps_part_then_resumes_with_range(served):
    served.drop_after['/ckpt.pth'] = 1_000_000
    with pytest.raises(DownloadError, match='interrupted.*run the same command again to resume'):
        download_checkpoint(NAME, progress=False, retries=0)
    assert cache_files() == [f'{NAME}.pth.part']  # no file under the final name
    assert (checkpoint_cache_dir() / f'{NAME}.pth.part').stat().st_size == 1_000_000

    path = download_checkpoint(NAME, progress=False, retries=0)
    assert path.read_bytes() == PAYLOAD
    assert served.requests == [('/ckpt.pth', None), ('/ckpt.pth', 'bytes=1000000-')]
    assert cache_files() == [f'{NAME}.pth']


def test_dropped_connection_is_resumed_within_one_call(served, tmp_path):
    served.drop_after['/ckpt.pth'] = 2_500_000
    path = download_file(served.url('/ckpt.pth'), tmp_path / 'c.pth',
                         Checksum(sha256=sha256_bytes(PAYLOAD)), progress=False, retry_wait_s=0)
    assert path.read_bytes() == PAYLOAD
    assert [r[1] for r in served.requests] == [None, 'bytes=2500000-']


def test_server_ignoring_range_restarts_from_zero(served, tmp_path):
    served.support_range = False
    dest = tmp_path / 'd.pth'
    (tmp_path / 'd.pth.part').write_bytes(PAYLOAD[:1000])
    download_file(served.url('/ckpt.pth'), dest, Checksum(sha256=sha256_bytes(PAYLOAD)),
                  progress=False)
    assert dest.read_bytes() == PAYLOAD  # not the first 1000 bytes twice


def test_complete_part_is_verified_without_refetching(served, tmp_path):
    dest = tmp_path / 'e.pth'
    (tmp_path / 'e.pth.part').write_bytes(PAYLOAD)  # died between the last byte and the rename
    download_file(served.url('/ckpt.pth'), dest, Checksum(sha256=sha256_bytes(PAYLOAD)),
                  progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert served.requests == [('/ckpt.pth', f'bytes={len(PAYLOAD)}-')]  # answered 416


def test_404_names_url_and_status_and_leaves_nothing(served, tmp_path, monkeypatch):
    url = served.url('/missing.pth')
    metafile = write_metafile(tmp_path / 'gone.json', [zoo_entry('gone', url, '1' * 64)])
    monkeypatch.setenv('MOCO_ZOO_FILES', str(metafile))
    with pytest.raises(DownloadError) as err:
        download_checkpoint('gone', progress=False)
    assert str(err.value) == f'cannot download {url}: HTTP 404 Not Found'
    assert cache_files() == []


def test_unreachable_server_says_so(tmp_path):
    url = f'http://127.0.0.1:{free_port()}/x.pth'  # nothing listens there
    with pytest.raises(DownloadError, match=f'cannot reach {url} .*to use it offline'):
        download_file(url, tmp_path / 'x.pth', Checksum(sha256='2' * 64), progress=False)
    assert not (tmp_path / 'x.pth').exists()


def test_corrupted_cached_file_is_downloaded_again(served):
    target = checkpoint_cache_dir() / f'{NAME}.pth'
    target.parent.mkdir(parents=True)
    target.write_bytes(b'garbage')
    assert download_checkpoint(NAME, progress=False).read_bytes() == PAYLOAD


def test_local_file_entry_is_verified_in_place(tmp_path, monkeypatch, no_network):
    local = tmp_path / 'mine.pth'
    local.write_bytes(b'weights')
    metafile = write_metafile(tmp_path / 'local.json', [
        zoo_entry('mine', local.as_uri(), sha256_bytes(b'weights')),
        zoo_entry('mine_bad', str(local), '3' * 64)])
    monkeypatch.setenv('MOCO_ZOO_FILES', str(metafile))
    assert download_checkpoint('mine') == local
    with pytest.raises(ChecksumError, match='mine_bad'):
        download_checkpoint('mine_bad')
    assert local.read_bytes() == b'weights'  # a user's own file is never deleted


def test_builtin_zoo_lists_the_official_releases():
    names = load_zoo().names()
    assert {'mocov1_resnet50_200e_in1k_official', 'mocov2_resnet50_200e_in1k_official',
            'mocov2_resnet50_800e_in1k_official'} <= set(names)


def test_cli_downloads_and_prints_path(served, capsys):
    with pytest.raises(SystemExit) as code:
        download_main([NAME, '--quiet'])
    assert code.value.code == 0
    assert capsys.readouterr().out.strip() == str(checkpoint_cache_dir() / f'{NAME}.pth')


def test_cli_unknown_name_is_one_line_with_suggestion(served, capsys):
    with pytest.raises(SystemExit) as code:
        download_main(['test_ckpz', '--quiet'])
    assert code.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("download_checkpoint.py: error: no checkpoint called 'test_ckpz'")
    assert 'did you mean test_ckpt?' in err and '\n' not in err


def test_cli_list_shows_names_and_numbers(served, capsys):
    with pytest.raises(SystemExit):
        download_main(['--list'])
    out = capsys.readouterr().out
    assert NAME in out
    official = next(line for line in out.splitlines()
                    if line.startswith('mocov2_resnet50_800e_in1k_official'))
    assert '71.1' in official and official.endswith('no')
