# MoCo v2 for a CPU budget (2 cores, about 25 minutes on one core): the settings of the
# CPU comparison in benchmarks/results/comparison_cpu/README.md, chosen by the short-budget study there.
# ResNet-18 with the ImageNet stem on 32 px (about 6x cheaper than the CIFAR stem on a CPU),
# all 50,000 CIFAR-10 training images, 6 epochs of batch 64 (4,686 iterations), AdamW at
# lr 3e-4, colour jitter at half the aug+ strength and no grayscale (at this budget, colour
# invariance costs k-NN accuracy on CIFAR-10 before anything semantic is learnt), K=4096,
# m=0.99, T=0.1, split-BN with 4 sub-batches of 16. Augmentation is batched on the device.
_base_ = [
    '../_base_/models/mocov2_resnet18.py',
    '../_base_/datasets/cifar10_batchaug.py',
    '../_base_/schedules/adamw_coslr-6e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    queue_len=4096,
    momentum=0.99,
    bn_splits=4,
    backbone=dict(cifar_stem=False),
    head=dict(temperature=0.1),
    data_preprocessor=dict(batch_augment=dict(
        type='BatchMoCoAugment', size=32, scale=(0.2, 1.0), jitter_prob=0.8, brightness=0.2,
        contrast=0.2, saturation=0.2, hue=0.05, grayscale_prob=0.0, blur_prob=0.0, flip_prob=0.5,
        # Fuses the per-pixel work (about 40% less augmentation time on CPU); the first
        # iteration compiles (~15-45 s), without a working compiler it falls back to eager mode.
        compile=True)),
)
train_dataloader = dict(batch_size=64)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
custom_hooks = [
    dict(type='MomentumUpdateHook'),
    dict(type='QueueHook'),
    # k-NN top-1 on 5,000 training / 1,000 test images after every epoch (seconds each)
    dict(type='KNNMonitorHook', interval=1, k=200, bank_size=5000, query_size=1000, num_workers=0),
]
