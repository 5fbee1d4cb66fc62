# MoCo v1 on ImageNet-1k as in the paper (arXiv:1911.05722): ResNet-50, 8 GPUs x 32,
# lr 0.03, SGD wd 1e-4, steps at 120/160 of 200 epochs, K=65536, m=0.999, T=0.07,
# shuffle-BN across GPUs. Paper: 60.6% linear top-1.
_base_ = [
    '../_base_/models/mocov1_resnet50.py',
    '../_base_/datasets/imagenet_mocov1.py',
    '../_base_/schedules/sgd_steplr-200e.py',
    '../_base_/default_runtime.py',
]
