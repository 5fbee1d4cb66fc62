import math

import pytest
import torch

from moco_plugin.models.heads import InfoNCEHead


def test_loss_equals_hand_computation():
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    k = torch.tensor([[0.6, 0.8], [0.0, 1.0]])
    queue = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, -1.0]])
    t = 0.5
    head = InfoNCEHead(temperature=t)
    # row 0: positive q.k = 0.6, negatives 1, -1, 0; row 1: positive 1, negatives 0, 0, -1
    rows = [[0.6, 1.0, -1.0, 0.0], [1.0, 0.0, 0.0, -1.0]]
    expected = sum(-r[0] / t + math.log(sum(math.exp(v / t) for v in r)) for r in rows) / 2
    torch.testing.assert_close(head.logits(q, k, queue), torch.tensor(rows) / t)
    assert head.loss(q, k, queue).item() == pytest.approx(expected, rel=1e-6)


def test_chance_level_is_log_k_plus_one():
    q = torch.tensor([[1.0, 0.0]])
    # all similarities equal -> loss = log(K + 1)
    loss = InfoNCEHead(0.2).loss(q, torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 1.0]] * 7))
    assert loss.item() == pytest.approx(math.log(8), rel=1e-6)


def test_temperature_must_be_positive():
    with pytest.raises(ValueError, match='temperature'):
        InfoNCEHead(0.0)


def test_logits_are_float32_under_bf16_autocast():
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(4, 16), dim=1)
    k = torch.nn.functional.normalize(torch.randn(4, 16), dim=1)
    queue = torch.nn.functional.normalize(torch.randn(32, 16), dim=1)
    head = InfoNCEHead(0.2)
    reference = head.logits(q, k, queue)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        autocast_logits = head.logits(q.bfloat16(), k.bfloat16(), queue)
    assert autocast_logits.dtype == torch.float32
    # only the bf16 rounding of the inputs remains, not a bf16 matmul
    torch.testing.assert_close(autocast_logits, reference, atol=0.05, rtol=0)
