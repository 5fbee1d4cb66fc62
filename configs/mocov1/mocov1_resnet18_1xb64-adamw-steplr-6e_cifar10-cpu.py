# MoCo v1 for a CPU budget (2 cores, about 25 minutes on one core): the MoCo v1 row of the
# CPU comparison in benchmarks/README.md, usable on its own. It is the MoCo v2 CPU config
# (ResNet-18 with the ImageNet stem on 32 px, all 50,000 CIFAR-10 training images, 6 epochs
# of batch 64, AdamW lr 3e-4, K=4096, m=0.99, split-BN with 4 sub-batches, and the
# comparison's shared views: aug+ crops and flips, colour jitter at half strength, no
# grayscale, batched on the device) with the v1 parts: linear neck, T=0.07 and v1's step
# schedule (x0.1 at 60% and 80% of the epochs, i.e. after epochs 4 and 5).
_base_ = ['../mocov2/mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py']

model = dict(
    neck=dict(_delete_=True, type='LinearNeck', in_channels=512, out_channels=128),
    head=dict(temperature=0.07),
)
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[4, 5], gamma=0.1)]
