# MoCo v2 for a CPU budget (2 cores, about 25 minutes on one core): the settings of the
# CPU comparison in benchmarks/README.md, chosen by the short-budget study there.
# ResNet-18 with the ImageNet stem on 32 px (about 6x cheaper than the CIFAR stem on a CPU),
# all 50,000 CIFAR-10 training images, 6 epochs of batch 64 (4,686 iterations), AdamW at
# lr 3e-4 (SGD at 0.03-0.06 stayed at random-init level for this many steps), colour
# jitter at half the aug+ strength and no grayscale (at this budget, colour invariance costs
# k-NN accuracy on CIFAR-10 before anything semantic is learnt), K=4096, m=0.99, T=0.1,
# split-BN with 4 sub-batches of 16. Augmentation is batched on the training device.
_base_ = ['./mocov2_resnet18_1xb256-coslr-200e_cifar10-fastaug.py']

model = dict(
    bn_splits=4,
    backbone=dict(cifar_stem=False),
    data_preprocessor=dict(batch_augment=dict(brightness=0.2, contrast=0.2, saturation=0.2,
                                              hue=0.05, grayscale_prob=0.0)),
)
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=3e-4, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=6, by_epoch=True, begin=0, end=6)]
train_cfg = dict(max_epochs=6)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
custom_hooks = [
    dict(type='MomentumUpdateHook', momentum=0.99, schedule='constant'),
    dict(type='QueueHook'),
    # k-NN top-1 on 5,000 training / 1,000 test images after every epoch (seconds each)
    dict(type='KNNMonitorHook', interval=1, k=200, bank_size=5000, query_size=1000, num_workers=0),
]
