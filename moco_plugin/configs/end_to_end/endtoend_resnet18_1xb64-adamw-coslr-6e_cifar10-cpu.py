# The end-to-end mechanism (MoCo paper Fig. 2a) at MoCo v2's CPU budget: keys from the query
# encoder with gradients, the negatives of a query are the other 63 keys of its batch
# (K = batch size - 1). Budget, backbone, neck, temperature and views as
# ../mocov2/mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py; K grows only with the batch.
_base_ = [
    '../_base_/datasets/cifar10_batchaug.py',
    '../_base_/schedules/adamw_coslr-6e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='EndToEndContrast',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', batch_augment=dict(
        type='BatchMoCoAugment', size=32, scale=(0.2, 1.0), jitter_prob=0.8, brightness=0.2,
        contrast=0.2, saturation=0.2, hue=0.05, grayscale_prob=0.0, blur_prob=0.0, flip_prob=0.5,
        compile=True)),
    backbone=dict(type='ResNet', depth=18, cifar_stem=False),
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512, out_channels=128),
    head=dict(type='InfoNCEHead', temperature=0.1),
)
train_dataloader = dict(batch_size=64)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
custom_hooks = [
    dict(type='KNNMonitorHook', interval=1, k=200, bank_size=5000, query_size=1000, num_workers=0),
]
