"""Memory bank and end-to-end: the two mechanisms MoCo is compared with (paper Fig. 2-3)."""
import pytest
import torch
import torch.nn.functional as F

import moco_plugin.models  # noqa: F401
from moco_plugin.models.algorithms.end_to_end_contrast import other_keys
from moco_plugin.models.utils import FeatureBank
from moco_plugin.registry import MODELS

NECK = dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=8)
HEAD = dict(type='InfoNCEHead', temperature=0.2)


def test_bank_entry_moves_toward_the_new_feature_by_exactly_the_momentum():
    bank = FeatureBank(size=6, dim=4, momentum=0.5)
    old = bank.features.clone()
    indices = torch.tensor([1, 4])
    new = F.normalize(torch.randn(2, 4), dim=1)
    bank.stage(indices, new)
    assert bank.flush() == 2
    expected = F.normalize(0.5 * old[indices] + 0.5 * new, dim=1)
    torch.testing.assert_close(bank.features[indices], expected)
    untouched = [0, 2, 3, 5]
    torch.testing.assert_close(bank.features[untouched], old[untouched], rtol=0, atol=0)


def test_bank_negatives_never_include_the_positive_entry():
    torch.manual_seed(0)
    bank = FeatureBank(size=5, dim=3)
    bank.features.copy_(torch.arange(5.).view(5, 1).expand(5, 3))  # entry i holds the value i
    indices = torch.tensor([0, 2, 4])
    drawn = bank.sample_negatives(indices, 2000)[..., 0]  # (3, 2000) entry values
    for row, own in enumerate(indices.tolist()):
        values = set(drawn[row].long().tolist())
        assert own not in values and values == set(range(5)) - {own}  # all others reachable


def test_bank_index_outside_the_bank_is_a_one_line_error():
    with pytest.raises(ValueError, match='set model.bank_size to the number of training images'):
        FeatureBank(size=4, dim=2).sample_negatives(torch.tensor([4]), 3)


def test_memory_bank_contrast_loss_and_staging():
    model = MODELS.build(dict(type='MemoryBankContrast', bank_size=10, feat_dim=8, num_negatives=5,
                              backbone=dict(type='ResNet', depth=18), neck=NECK, head=HEAD))
    assert model.required_hooks() == ['QueueHook']
    views = [torch.randn(3, 3, 32, 32), torch.randn(3, 3, 32, 32)]
    before = model.bank.features.clone()
    loss = model(views, dict(idx=torch.tensor([7, 0, 3])), mode='loss')['loss']
    assert torch.isfinite(loss) and loss.item() > 0
    torch.testing.assert_close(model.bank.features, before)  # written only by the flush
    assert model.bank.flush() == 3
    assert not torch.equal(model.bank.features[[7, 0, 3]], before[[7, 0, 3]])


def test_other_keys_gives_batch_minus_one_negatives_per_query():
    keys = torch.randn(5, 4)
    negatives = other_keys(keys)
    assert negatives.shape == (5, 4, 4)
    for i in range(5):
        torch.testing.assert_close(negatives[i], torch.cat([keys[:i], keys[i + 1:]]))


def test_end_to_end_logits_and_gradients_reach_the_key_path():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='EndToEndContrast', backbone=dict(type='ResNet', depth=18),
                              neck=NECK, head=HEAD))
    assert model.required_hooks() == []
    views = [torch.randn(6, 3, 32, 32), torch.randn(6, 3, 32, 32)]
    key = F.normalize(model.neck(model.backbone(views[1])), dim=1)
    query = F.normalize(model.neck(model.backbone(views[0])), dim=1)
    assert model.head.logits(query, key, other_keys(key)).shape == (6, 6)  # 1 + (6 - 1) per query
    # Gradients flow through the keys: the loss changes the encoder through view 2 alone.
    key.sum().backward()
    assert model.backbone.conv1.weight.grad is not None
    model.zero_grad()
    loss = model(views, mode='loss')['loss']
    loss.backward()
    grad_both = model.backbone.conv1.weight.grad.clone()
    model.zero_grad()
    query_only = F.normalize(model.neck(model.backbone(views[0])), dim=1)
    detached_key = F.normalize(model.neck(model.backbone(views[1])), dim=1).detach()
    model.head.loss(query_only, detached_key, other_keys(detached_key)).backward()
    assert not torch.allclose(grad_both, model.backbone.conv1.weight.grad)


def _bank_model(**overrides):
    torch.manual_seed(0)
    return MODELS.build(dict(type='MemoryBankContrast', bank_size=6, feat_dim=8, num_negatives=3,
                             backbone=dict(type='ResNet', depth=18), neck=NECK, head=HEAD,
                             **overrides))


def _batches():
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    return images, [dict(inputs=[images[i:i + 3], images[i:i + 3].flip(-1)],
                         data_samples=dict(idx=torch.arange(i, i + 3))) for i in (0, 3)]


def test_encoder_filled_bank_holds_the_initial_encoders_features_and_keeps_bn_statistics():
    model = _bank_model(bank_init='encoder')
    assert model.bank_needs_filling() and not _bank_model().bank_needs_filling()
    images, loader = _batches()
    running_mean = model.backbone.bn1.running_mean.clone()
    assert model.fill_bank(loader) == 6
    assert not model.bank_needs_filling() and bool(model.bank.filled)
    torch.testing.assert_close(model.backbone.bn1.running_mean, running_mean, rtol=0, atol=0)
    with torch.no_grad():  # the same features, batch by batch, in training mode
        for batch in loader:
            view = model.data_preprocessor(batch, True)['inputs'][0]
            expected = F.normalize(model.neck(model.backbone(view)), dim=1)
            torch.testing.assert_close(model.bank.features[batch['data_samples']['idx']], expected,
                                       rtol=1e-4, atol=1e-5)
    assert model.state_dict()['bank.filled'].item() is True  # saved: a resumed run skips it
    with pytest.raises(ValueError, match="bank_init must be 'random' or 'encoder'"):
        _bank_model(bank_init='zeros')


def test_queue_hook_fills_the_bank_before_training_once():
    from types import SimpleNamespace
    from unittest import mock

    from moco_plugin.engine.hooks import QueueHook
    model = _bank_model(bank_init='encoder')
    _, batches = _batches()
    # a loader of the two batches, with what QueueHook checks (batch size, drop_last, length)
    loader = mock.MagicMock(batch_size=3, drop_last=True, dataset=list(range(6)))
    loader.batch_sampler = SimpleNamespace(batch_size=3, drop_last=True)
    loader.__iter__.side_effect = lambda: iter(batches)
    logger = mock.MagicMock()
    runner = SimpleNamespace(model=model, train_dataloader=loader, logger=logger)
    before = model.bank.features.clone()
    QueueHook().before_train(runner)
    assert not torch.equal(model.bank.features, before) and bool(model.bank.filled)
    assert "filled with the initial encoder's features (6 entries" in logger.info.call_args[0][0]
    filled = model.bank.features.clone()
    QueueHook().before_train(runner)  # filled already (as after a resume): not again
    torch.testing.assert_close(model.bank.features, filled, rtol=0, atol=0)
