# MoCo v1 for a CPU budget (2 cores, about 25 minutes on one core): the MoCo v1 row of the
# CPU comparison in benchmarks/README.md, usable on its own. Everything but the v1 parts is
# the same as mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py: ResNet-18 with the
# ImageNet stem on 32 px, all 50,000 CIFAR-10 training images, 6 epochs of batch 64, AdamW
# lr 3e-4, K=4096, m=0.99, split-BN with 4 sub-batches, and the comparison's shared views
# (aug+ crops and flips, colour jitter at half strength, no grayscale, batched on the
# device). The v1 parts: linear neck, T=0.07 and v1's step schedule (x0.1 at 60% and 80%
# of the epochs, i.e. after epochs 4 and 5).
_base_ = ['./mocov1_resnet18_1xb256-steplr-200e_cifar10.py']

model = dict(
    bn_splits=4,
    backbone=dict(cifar_stem=False),
    data_preprocessor=dict(batch_augment=dict(
        type='BatchMoCoAugment', size=32, scale=(0.2, 1.0), jitter_prob=0.8, brightness=0.2,
        contrast=0.2, saturation=0.2, hue=0.05, grayscale_prob=0.0, blur_prob=0.0,
        flip_prob=0.5, compile=True)),
)
train_dataloader = dict(
    batch_size=64,
    num_workers=1,  # indexing + collation only; the augmentation runs in the training process
    dataset=dict(in_memory=True, pipeline=[dict(type='UnaugmentedViews', num_views=2)]))
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=3e-4, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[4, 5], gamma=0.1)]
train_cfg = dict(max_epochs=6)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
custom_hooks = [
    dict(type='MomentumUpdateHook', momentum=0.99, schedule='constant'),
    dict(type='QueueHook'),
    # k-NN top-1 on 5,000 training / 1,000 test images after every epoch (seconds each)
    dict(type='KNNMonitorHook', interval=1, k=200, bank_size=5000, query_size=1000, num_workers=0),
]
