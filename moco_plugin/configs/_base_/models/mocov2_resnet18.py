# MoCo v2 (arXiv:2003.04297): MLP neck, T=0.2, momentum 0.999, K=65536.
model = dict(
    type='MoCo',
    queue_len=65536,
    feat_dim=128,
    momentum=0.999,  # EMA of the key encoder, applied by MomentumUpdateHook
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(type='ResNet', depth=18, cifar_stem=False),
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512, out_channels=128),
    head=dict(type='InfoNCEHead', temperature=0.2),
)
# The algorithm-specific hooks: EMA of the key encoder and the queue writes.
custom_hooks = [
    dict(type='MomentumUpdateHook'),
    dict(type='QueueHook'),
]
