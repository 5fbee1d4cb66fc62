# MoCo v1 for a CPU budget (2 cores, about 25 minutes on one core): the MoCo v1 row of the
# CPU comparison in benchmarks/results/comparison_cpu/README.md. The budget and the shared
# views are those of
# ../mocov2/mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py (ResNet-18 with the ImageNet
# stem on 32 px, all 50,000 training images, 6 epochs of batch 64, AdamW lr 3e-4, K=4096,
# m=0.99, split-BN with 4 sub-batches; aug+ crops and flips, colour jitter at half strength,
# no grayscale, batched on the device; tests/test_tools/test_cpu_budget_config.py checks that
# both equal what the comparison trained) with the v1 parts: linear neck, T=0.07 and v1's
# step schedule.
_base_ = [
    '../_base_/models/mocov1_resnet18.py',
    '../_base_/datasets/cifar10_batchaug.py',
    '../_base_/schedules/adamw_steplr-6e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    queue_len=4096,
    momentum=0.99,
    bn_splits=4,
    backbone=dict(cifar_stem=False),
    data_preprocessor=dict(batch_augment=dict(
        type='BatchMoCoAugment', size=32, scale=(0.2, 1.0), jitter_prob=0.8, brightness=0.2,
        contrast=0.2, saturation=0.2, hue=0.05, grayscale_prob=0.0, blur_prob=0.0, flip_prob=0.5,
        compile=True)),
)
train_dataloader = dict(batch_size=64)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
custom_hooks = [
    dict(type='MomentumUpdateHook'),
    dict(type='QueueHook'),
    dict(type='KNNMonitorHook', interval=1, k=200, bank_size=5000, query_size=1000, num_workers=0),
]
