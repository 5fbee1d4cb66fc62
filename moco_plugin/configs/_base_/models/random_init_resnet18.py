# Random-init baseline: the backbone as initialised, never trained (evaluation only).
model = dict(
    type='RandomInit',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(type='ResNet', depth=18, cifar_stem=False),
)
custom_hooks = []
