# MoCo v2, ResNet-50 with the CIFAR stem (3x3/1 conv, no max-pool) on native 32 px CIFAR-10:
# the 32 px side of the first source report's comparison (ResNet-50 at 224 px with the
# ImageNet stem vs native 32 px with the CIFAR stem). Settings of the ResNet-18 CIFAR config;
# per-image cost on the development CPU: benchmarks/results/ablations/README.md. A GPU run.
_base_ = ['./mocov2_resnet18_1xb256-coslr-200e_cifar10.py']

model = dict(
    backbone=dict(depth=50, cifar_stem=True),
    neck=dict(in_channels=2048, hid_channels=2048),
)
