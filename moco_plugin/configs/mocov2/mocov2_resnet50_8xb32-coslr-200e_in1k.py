# MoCo v2 on ImageNet-1k as in the paper (arXiv:2003.04297): ResNet-50, 8 GPUs x 32,
# lr 0.03, cosine over 200 epochs, MLP neck, T=0.2, aug+ with blur, K=65536, m=0.999,
# shuffle-BN across GPUs. Paper: 67.5% linear top-1 (official release 67.7%).
_base_ = [
    '../_base_/models/mocov2_resnet50.py',
    '../_base_/datasets/imagenet_mocov2.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
