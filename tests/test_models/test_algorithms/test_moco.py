import pytest
import torch
from mmengine.config import Config
from torch import nn

import moco_plugin.models  # noqa: F401
from moco_plugin.models.utils import SplitBatchNorm2d
from moco_plugin.registry import MODELS
from tests.conftest import REPO_ROOT

V1 = REPO_ROOT / 'configs/mocov1/mocov1_resnet18_1xb256-steplr-200e_cifar10.py'
V2 = REPO_ROOT / 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'


def _small_moco(**overrides):
    cfg = dict(type='MoCo', queue_len=32, feat_dim=16,
               backbone=dict(type='ResNet', depth=18),
               neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=64, out_channels=16),
               head=dict(type='InfoNCEHead', temperature=0.2))
    cfg.update(overrides)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_v1_and_v2_configs_build_different_necks_and_temperatures():
    v1 = MODELS.build(Config.fromfile(str(V1)).model)
    v2 = MODELS.build(Config.fromfile(str(V2)).model)
    assert type(v1.neck).__name__ == 'LinearNeck' and type(v2.neck).__name__ == 'MoCoV2Neck'
    assert v1.head.temperature == pytest.approx(0.07)
    assert v2.head.temperature == pytest.approx(0.1)
    assert v1.queue.size == v2.queue.size == 4096
    assert v1.backbone.cifar_stem and isinstance(v2.backbone.bn1, SplitBatchNorm2d)
    v1_hooks = {h['type'] for h in Config.fromfile(str(V1)).custom_hooks}
    assert v1_hooks == {'MomentumUpdateHook', 'QueueHook'}


def test_key_encoder_starts_equal_and_receives_no_gradient():
    torch.manual_seed(0)
    model = _small_moco()
    for q, k in zip(model.backbone.parameters(), model.key_backbone.parameters()):
        assert torch.equal(q, k) and not k.requires_grad
    images = [torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8) for _ in range(2)]
    data = model.data_preprocessor(dict(inputs=images), True)
    loss = model(**data, mode='loss')['loss']
    loss.backward()
    assert all(p.grad is None for p in model.key_backbone.parameters())
    assert model.backbone.conv1.weight.grad is not None


def test_loss_stages_keys_without_touching_the_queue():
    model = _small_moco()
    before = model.queue.features.clone()
    views = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]
    model(views, mode='loss')
    assert torch.equal(model.queue.features, before)
    assert len(model.queue._staged) == 1 and model.queue._staged[0].shape == (4, 16)
    torch.testing.assert_close(model.queue._staged[0].norm(dim=1), torch.ones(4))


def test_symmetric_loss_stages_both_key_batches():
    model = _small_moco(symmetric=True)
    assert model.queue.keys_per_sample == 2
    model([torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)], mode='loss')
    assert sum(k.shape[0] for k in model.queue._staged) == 8


class _BNFreeBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return self.conv(x).mean(dim=(2, 3))


MODELS.register_module(name='_BNFreeBackbone', module=_BNFreeBackbone, force=True)


def test_shuffle_bn_leaves_loss_of_bn_free_model_unchanged():
    torch.manual_seed(0)
    kwargs = dict(backbone=dict(type='_BNFreeBackbone'), bn_splits=2,
                  neck=dict(type='LinearNeck', in_channels=8, out_channels=16))
    shuffled = _small_moco(shuffle_bn=True, **kwargs)
    plain = _small_moco(shuffle_bn=False, **kwargs)
    plain.load_state_dict(shuffled.state_dict())
    views = [torch.randn(6, 3, 8, 8), torch.randn(6, 3, 8, 8)]
    torch.manual_seed(1)
    loss_shuffled = shuffled(views, mode='loss')['loss']
    loss_plain = plain(views, mode='loss')['loss']
    torch.testing.assert_close(loss_shuffled, loss_plain)
    torch.testing.assert_close(shuffled.queue._staged[0], plain.queue._staged[0])


def test_shuffle_bn_changes_keys_of_bn_model():
    torch.manual_seed(0)
    shuffled = _small_moco(shuffle_bn=True, bn_splits=2)
    plain = _small_moco(shuffle_bn=False, bn_splits=2)
    plain.load_state_dict(shuffled.state_dict())
    view = torch.randn(8, 3, 32, 32)
    # with split-BN, which images share a sub-batch changes the keys
    assert not torch.allclose(shuffled.encode_key(view), plain.encode_key(view))


def test_tensor_mode_returns_backbone_features():
    model = _small_moco().eval()
    features = model(torch.randn(3, 3, 32, 32), mode='tensor')
    assert features.shape == (3, 512)


def test_loss_needs_two_views():
    with pytest.raises(ValueError, match='needs 2 augmented views'):
        _small_moco()([torch.randn(2, 3, 32, 32)], mode='loss')


def test_pretrained_init_keeps_the_checkpoints_key_encoder(tmp_path):
    import moco_plugin.engine  # noqa: F401  (safe local checkpoint loader)
    source = _small_moco()
    with torch.no_grad():
        source.key_backbone.conv1.weight.fill_(0.5)
    path = tmp_path / 'pretrained.pth'
    torch.save({'state_dict': source.state_dict()}, path)
    model = _small_moco(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    assert torch.all(model.key_backbone.conv1.weight == 0.5)
    torch.testing.assert_close(model.backbone.conv1.weight, source.backbone.conv1.weight)


def _train_steps(model, batches):
    """MoCo steps on ``batches`` of (images, idx); returns each step's loss dict."""
    outputs = []
    for images, idx in batches:
        data = model.data_preprocessor(dict(inputs=[images, images.flip(-1)]), True)
        outputs.append(model(data['inputs'], dict(idx=idx), mode='loss'))
        model.queue.flush()
    return outputs


def test_a_query_never_sees_its_own_image_among_its_negatives_when_masked(monkeypatch):
    torch.manual_seed(0)
    model = _small_moco(queue_len=8, mask_own_negatives=True)
    seen = []
    original = model.head.logits

    def spy(query, key, negatives, negative_mask=None):
        logits = original(query, key, negatives, negative_mask)
        seen.append((model.queue.indices.clone(), logits.detach()))
        return logits
    monkeypatch.setattr(model.head, 'logits', spy)
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    # the same 4 images every step, so from step 2 on all of them are in the queue
    outputs = _train_steps(model, [(images, torch.tensor([0, 1, 2, 3]))] * 3)
    for step, (slots, logits) in enumerate(seen):
        for row, image in enumerate([0, 1, 2, 3]):
            own = (slots == image).nonzero().view(-1)
            assert torch.all(torch.isinf(logits[row, 1 + own]))  # dropped from the softmax
            others = (slots != image).nonzero().view(-1)
            assert torch.all(torch.isfinite(logits[row, 1 + others]))
    assert [float(o['queue/own_image_share']) for o in outputs] == [0.0, 1.0, 1.0]
    assert all(torch.isfinite(o['loss']) for o in outputs)
    unmasked = _small_moco(queue_len=8)
    assert all(torch.isfinite(o) for o in unmasked.head.logits(
        torch.randn(2, 16), torch.randn(2, 16), unmasked.queue.features).view(-1))


def test_empty_start_contrasts_only_against_written_keys():
    torch.manual_seed(0)
    model = _small_moco(queue_len=8, queue_init='empty')
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    outputs = _train_steps(model, [(images, torch.arange(4) + 4 * i) for i in range(3)])
    assert [float(o['queue/initial_fill_share']) for o in outputs] == [1.0, 0.5, 0.0]
    # step 1: every negative masked, the softmax holds only the positive: loss exactly 0
    assert outputs[0]['loss'].item() == 0.0 and outputs[1]['loss'].item() > 0.0


def test_masking_needs_the_image_indices():
    model = _small_moco(mask_own_negatives=True)
    images = [torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8) for _ in range(2)]
    data = model.data_preprocessor(dict(inputs=images), True)
    with pytest.raises(ValueError, match=r"mask_own_negatives needs the image indices"):
        model(data['inputs'], None, mode='loss')
