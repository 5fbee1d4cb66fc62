# BYOL (arXiv:2006.07733): projection 512-4096-256, predictor 256-4096-256 (lightly's heads),
# target network updated by MomentumUpdateHook with the paper's cosine schedule 0.99 -> 1.
model = dict(
    type='BYOL',
    # EMA of the target network, applied by MomentumUpdateHook
    momentum=0.99, end_momentum=1.0, momentum_schedule='cosine',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(type='ResNet', depth=18, cifar_stem=False),
    neck=dict(type='BYOLNeck', in_channels=512, hid_channels=4096, out_channels=256),
    head=dict(type='LatentPredictHead', predictor='byol', in_channels=256, hid_channels=4096,
              out_channels=256),
)
custom_hooks = [dict(type='MomentumUpdateHook')]
