"""Test helpers: a local HTTP server with Range support, and synthetic MoCo checkpoints."""
from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
import torchvision
from torch import nn


class _Handler(BaseHTTPRequestHandler):
    server: 'LocalFileServer'

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        server = self.server
        range_header = self.headers.get('Range')
        server.requests.append((self.path, range_header))
        body = server.files.get(self.path)
        if body is None:
            self.send_error(404, 'Not Found')
            return
        start = 0
        if range_header and server.support_range:
            start = int(re.match(r'bytes=(\d+)-$', range_header).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header('Content-Range', f'bytes */{len(body)}')
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
            self.send_response(206)
            self.send_header('Content-Range', f'bytes {start}-{len(body) - 1}/{len(body)}')
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        drop_after = server.drop_after.pop(self.path, None)
        if drop_after is not None:  # simulate a connection lost mid-transfer
            self.wfile.write(payload[:drop_after])
            self.close_connection = True
            return
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


class LocalFileServer(ThreadingHTTPServer):
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1; records every request.

    Attributes:
        files: What is served; anything else is a 404.
        drop_after: URL path -> bytes to send before closing the connection (once).
        support_range: Honour ``Range`` requests (``False``: always send the whole file).
        requests: ``(path, Range header)`` of every request, in order.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(('127.0.0.1', 0), _Handler)
        self.files: Dict[str, bytes] = {}
        self.drop_after: Dict[str, int] = {}
        self.support_range = True
        self.requests: List[Tuple[str, Optional[str]]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f'http://127.0.0.1:{self.server_address[1]}{path}'

    def __enter__(self) -> 'LocalFileServer':
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zoo_entry(name: str, url: str, sha256: Optional[str] = None, md5_prefix: Optional[str] = None,
              source: str = 'project') -> dict:
    """A complete metafile model record (all fields) for tests."""
    return {
        'name': name, 'algorithm': 'MoCo v2', 'source': source, 'backbone': 'ResNet-18',
        'epochs': 1, 'batch_size': 8, 'data': 'synthetic', 'eval_data': 'synthetic',
        'knn_top1': None, 'linear_top1': None, 'metrics_source': 'test', 'config':
        'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py', 'url': url,
        'sha256': sha256, 'md5_prefix': md5_prefix, 'reproduce': 'none', 'notes': None}


def write_metafile(path: Path, entries: List[dict]) -> Path:
    data = {'schema_version': 1,
            'algorithms': [{'name': 'MoCo v2', 'model_type': 'MoCo', 'paper': None,
                            'configs': 'configs/mocov2/'}],
            'models': entries}
    path.write_text(json.dumps(data), encoding='utf-8')
    return path


def randomize_batchnorm(module: nn.Module, generator: torch.Generator) -> None:
    """Non-trivial BN affine parameters and running statistics (so eval outputs test them)."""
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            n = bn.num_features
            bn.weight.data = 0.5 + torch.rand(n, generator=generator)
            bn.bias.data = 0.1 * torch.randn(n, generator=generator)
            bn.running_mean = 0.1 * torch.randn(n, generator=generator)
            bn.running_var = 0.5 + torch.rand(n, generator=generator)
            bn.num_batches_tracked.fill_(7)


class OfficialEncoder(nn.Module):
    """The official MoCo encoder: a torchvision ResNet whose ``fc`` is the projection."""

    def __init__(self, trunk: nn.Module, mlp: bool, dim: int = 128) -> None:
        super().__init__()
        self.net = copy.deepcopy(trunk)
        features = self.net.fc.in_features
        self.net.fc = (nn.Sequential(nn.Linear(features, features), nn.ReLU(),
                                     nn.Linear(features, dim)) if mlp else nn.Linear(features, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features before ``fc`` (what the backbone of this project returns)."""
        net = self.net
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
        return torch.flatten(net.avgpool(x), 1)


def random_trunk(arch: str, seed: int) -> nn.Module:
    """A torchvision ResNet with seeded weights and non-trivial BN statistics."""
    torch.manual_seed(seed)
    trunk = getattr(torchvision.models, arch)()
    randomize_batchnorm(trunk, torch.Generator().manual_seed(seed))
    return trunk


def make_official_checkpoint(arch: str = 'resnet50', mlp: bool = False, with_queue: bool = True,
                             with_key_encoder: bool = True, queue_len: int = 65536, seed: int = 0,
                             trunk: Optional[nn.Module] = None
                             ) -> Tuple[dict, OfficialEncoder, 'OrderedDict[str, torch.Tensor]']:
    """A checkpoint in the official release layout with random values.

    Keys and shapes are those of ``main_moco.py``'s DDP-wrapped model:
    ``module.encoder_q.*``, ``module.encoder_k.*``, ``module.queue`` ``(dim, K)``,
    ``module.queue_ptr`` ``(1,)``, plus ``epoch``/``arch``/``optimizer``.

    Args:
        trunk: The torchvision ResNet to start from (copied); default: :func:`random_trunk`.

    Returns:
        ``(checkpoint, query encoder (eval mode), key encoder state_dict)``.
    """
    generator = torch.Generator().manual_seed(seed + 1)
    torch.manual_seed(seed)
    trunk = random_trunk(arch, seed) if trunk is None else trunk
    query = OfficialEncoder(trunk, mlp).eval()
    q_state = query.net.state_dict()
    k_state = OrderedDict(
        (k, v + 0.01 * torch.randn(v.shape, generator=generator) if v.is_floating_point() else v)
        for k, v in q_state.items())
    state = OrderedDict((f'module.encoder_q.{k}', v) for k, v in q_state.items())
    if with_key_encoder:
        state.update((f'module.encoder_k.{k}', v) for k, v in k_state.items())
    if with_queue:
        queue = nn.functional.normalize(torch.randn(128, queue_len, generator=generator), dim=0)
        state['module.queue'] = queue
        state['module.queue_ptr'] = torch.tensor([1024], dtype=torch.long)
    first_param = next(iter(q_state.values()))
    optimizer = {'state': {0: {'momentum_buffer': torch.zeros_like(first_param)}},
                 'param_groups': [{'lr': 0.0, 'momentum': 0.9, 'dampening': 0,
                                   'weight_decay': 1e-4, 'nesterov': False,
                                   'params': list(range(len(q_state)))}]}
    checkpoint = {'epoch': 200, 'arch': arch, 'state_dict': state, 'optimizer': optimizer}
    return checkpoint, query, k_state


class NotAllowListed:
    """A class outside torch's weights_only allow-list (its pickle needs code execution)."""

    def __init__(self) -> None:
        self.value = 1
