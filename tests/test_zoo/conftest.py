"""Fixtures of the model-zoo tests: loopback-only networking, a local server, a private cache,
an editable copy of the metafile."""
from __future__ import annotations

import shutil
import socket

import pytest

from tests.test_zoo.helpers import LocalFileServer

_LOOPBACK = ('127.0.0.1', 'localhost', '::1')


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch, tmp_path):
    """No test may reach anything but 127.0.0.1; each test gets an empty cache."""
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in _LOOPBACK:
            raise AssertionError(f'test tried to connect to {address}')
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, 'connect', guarded_connect)
    for var in ('http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY'):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')
    monkeypatch.setenv('MOCO_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.delenv('MOCO_ZOO_FILES', raising=False)


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt fails the test (offline)."""
    def refuse(sock, address):
        raise AssertionError(f'offline test tried to connect to {address}')
    monkeypatch.setattr(socket.socket, 'connect', refuse)


@pytest.fixture
def server():
    with LocalFileServer() as running:
        yield running


@pytest.fixture(scope='session')
def r50_trunk():
    """One seeded torchvision ResNet-50 shared by the official-layout fixtures (slow to build)."""
    from tests.test_zoo.helpers import random_trunk
    return random_trunk('resnet50', seed=0)


@pytest.fixture(scope='session')
def official_r50_v1(r50_trunk):
    """ResNet-50 official v1 layout (with queue): (checkpoint, query encoder, key state)."""
    from tests.test_zoo.helpers import make_official_checkpoint
    return make_official_checkpoint(mlp=False, with_queue=True, seed=0, trunk=r50_trunk)


@pytest.fixture(scope='session')
def official_r50_v2(r50_trunk):
    """ResNet-50 official v2 layout (MLP, no queue, as released): (checkpoint, query, key state)."""
    from tests.test_zoo.helpers import make_official_checkpoint
    return make_official_checkpoint(mlp=True, with_queue=False, seed=1, trunk=r50_trunk)


@pytest.fixture
def zoo_copy(tmp_path):
    """Copies of the metafile and model_zoo.md that a test may edit."""
    from moco_plugin.zoo.metafile import BUILTIN_METAFILE
    from tests.conftest import REPO_ROOT
    metafile, doc = tmp_path / 'models.json', tmp_path / 'model_zoo.md'
    shutil.copy(BUILTIN_METAFILE, metafile)
    shutil.copy(REPO_ROOT / 'model_zoo.md', doc)
    return metafile, doc
