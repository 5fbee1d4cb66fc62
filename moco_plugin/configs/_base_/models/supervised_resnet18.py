# Supervised baseline: the backbone + a linear classifier trained with cross-entropy.
model = dict(
    type='Supervised',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(type='ResNet', depth=18, cifar_stem=False),
    head=dict(type='LinearClsHead', in_channels=512, num_classes=10),
)
custom_hooks = []
