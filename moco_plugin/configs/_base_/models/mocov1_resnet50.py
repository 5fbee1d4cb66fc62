# MoCo v1 (arXiv:1911.05722): linear neck, T=0.07, momentum 0.999, K=65536.
model = dict(
    type='MoCo',
    queue_len=65536,
    feat_dim=128,
    momentum=0.999,  # EMA of the key encoder, applied by MomentumUpdateHook
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(type='ResNet', depth=50, cifar_stem=False),
    neck=dict(type='LinearNeck', in_channels=2048, out_channels=128),
    head=dict(type='InfoNCEHead', temperature=0.07),
)
# The algorithm-specific hooks: EMA of the key encoder and the queue writes.
custom_hooks = [
    dict(type='MomentumUpdateHook'),
    dict(type='QueueHook'),
]
