# The memory-bank mechanism (InstDisc, https://arxiv.org/abs/1805.01978) at the MoCo CIFAR-10
# demo's budget, the GPU version of the MoCo paper's comparison of mechanisms (Fig. 3): the
# encoder, views, optimiser and schedule of ../mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py
# (ResNet-18 with the CIFAR stem, MLP neck, T=0.1, SGD lr 0.03, weight decay 5e-4, 200 epochs of
# batch 256, all 50,000 images); one bank entry per training image, K=4096 negatives drawn from
# it per query, entries updated with momentum 0.5. Plain BN (nothing to shuffle without a key
# encoder). benchmarks/specs/mechanism_memory_bank_200e_gpu.json sweeps its start.
_base_ = [
    '../_base_/datasets/cifar10_mocov2.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='MemoryBankContrast',
    bank_size=50000,
    feat_dim=128,
    num_negatives=4096,
    bank_momentum=0.5,
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(type='ResNet', depth=18, cifar_stem=True),
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512, out_channels=128),
    head=dict(type='InfoNCEHead', temperature=0.1),
)
optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
custom_hooks = [dict(type='QueueHook')]  # writes the bank after each step (and fills it first)
