# SimSiam (arXiv:2011.10566), CIFAR-10 variant of the paper: 3-layer projection 512-2048-2048,
# predictor 2048-512-2048 (lightly's heads), symmetric negative cosine with stop-gradient.
model = dict(
    type='SimSiam',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(type='ResNet', depth=18, cifar_stem=False),
    neck=dict(type='SimSiamNeck', in_channels=512, hid_channels=2048, out_channels=2048),
    head=dict(type='LatentPredictHead', predictor='simsiam', in_channels=2048, hid_channels=512,
              out_channels=2048),
)
custom_hooks = []
