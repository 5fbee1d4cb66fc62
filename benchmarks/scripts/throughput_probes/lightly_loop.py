"""Phase (c): the same MoCo v2 model and loop built from lightly's components."""
from __future__ import annotations

import copy
import gc
import os.path as osp
from typing import Dict

import torch

from .memory import peak_rss_mb, reset_peak_rss
from .windows import WindowTimer, summarise

def run_lightly(args, data_root: str) -> Dict:
    """Phase (c): a MoCo v2 loop written from lightly's components."""
    import torchvision
    from lightly.data import LightlyDataset
    from lightly.loss import NTXentLoss
    from lightly.models.modules import MoCoProjectionHead
    from lightly.models.utils import deactivate_requires_grad, update_momentum
    from lightly.transforms import MoCoV2Transform
    from torch import nn

    torch.manual_seed(0)
    resnet = torchvision.models.resnet18()
    if args.cifar_stem:  # same stem as the project's ResNet(cifar_stem=True)
        resnet.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        resnet.maxpool = nn.Identity()
    backbone = nn.Sequential(*list(resnet.children())[:-1])

    class LightlyMoCo(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone
            self.projection_head = MoCoProjectionHead(512, 512, 128)
            self.backbone_momentum = copy.deepcopy(self.backbone)
            self.projection_head_momentum = copy.deepcopy(self.projection_head)
            deactivate_requires_grad(self.backbone_momentum)
            deactivate_requires_grad(self.projection_head_momentum)

        def forward(self, x):
            return self.projection_head(self.backbone(x).flatten(start_dim=1))

        def forward_momentum(self, x):
            return self.projection_head_momentum(self.backbone_momentum(x).flatten(start_dim=1)).detach()

    model = LightlyMoCo()
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    transform = MoCoV2Transform(input_size=32, gaussian_blur=0.0)
    dataset = LightlyDataset(input_dir=osp.join(data_root, 'train'), transform=transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                                         drop_last=True, num_workers=args.lightly_workers)
    criterion = NTXentLoss(temperature=0.1, memory_bank_size=(4096, 128))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=5e-4)
    timer = WindowTimer(args.batch_size, args.warmup, args.iters, args.windows)
    reset_peak_rss()
    timer.start()
    for (x_query, x_key), _, _ in loader:
        update_momentum(model.backbone, model.backbone_momentum, m=0.99)
        update_momentum(model.projection_head, model.projection_head_momentum, m=0.99)
        x_query = x_query.contiguous(memory_format=memory_format)
        x_key = x_key.contiguous(memory_format=memory_format)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.amp):
            query = model(x_query)
            key = model.forward_momentum(x_key)
            loss = criterion(query, key)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if timer.tick():
            break
    result = dict(lightly=summarise(timer.rates(), timer.faults_per_iter()),
                  lightly_peak_rss_mb=peak_rss_mb())
    del loader
    gc.collect()
    return result
