# SimCLR (arXiv:2002.05709): 2-layer MLP projection with BN (lightly's SimCLRProjectionHead),
# NT-Xent loss with in-batch negatives, T=0.5 (the paper's CIFAR-10 setting).
model = dict(
    type='SimCLR',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(type='ResNet', depth=18, cifar_stem=False),
    neck=dict(type='SimCLRNeck', in_channels=512, hid_channels=512, out_channels=128),
    head=dict(type='NTXentHead', temperature=0.5),
)
custom_hooks = []
