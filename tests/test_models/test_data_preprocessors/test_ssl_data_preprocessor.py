import torch

from moco_plugin.models.data_preprocessors import SelfSupDataPreprocessor


def test_normalises_each_uint8_view_with_0_255_statistics():
    pre = SelfSupDataPreprocessor(mean=(10.0, 20.0, 30.0), std=(2.0, 4.0, 5.0))
    view = torch.full((1, 3, 2, 2), 50, dtype=torch.uint8)
    out = pre(dict(inputs=[view, view], data_samples=dict(gt_label=torch.tensor([1]))))
    assert isinstance(out['inputs'], list) and len(out['inputs']) == 2
    torch.testing.assert_close(out['inputs'][0][0, :, 0, 0], torch.tensor([20.0, 7.5, 4.0]))
    assert out['data_samples']['gt_label'].tolist() == [1]


def test_single_tensor_input_and_channels_last():
    pre = SelfSupDataPreprocessor(channels_last=True)
    out = pre(dict(inputs=torch.zeros(2, 3, 4, 4, dtype=torch.uint8)))
    assert out['inputs'].is_contiguous(memory_format=torch.channels_last)
    assert out['inputs'].dtype == torch.float32
