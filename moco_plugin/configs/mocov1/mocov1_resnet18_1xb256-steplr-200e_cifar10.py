# MoCo v1, ResNet-18 with CIFAR stem, CIFAR-10, 1 device x batch 256, step LR, 200 epochs.
# Queue, momentum and split-BN as in the MoCo v2 CIFAR config; the v1 parts are the
# linear neck, T=0.07 and the v1 augmentation.
_base_ = [
    '../_base_/models/mocov1_resnet18.py',
    '../_base_/datasets/cifar10_mocov1.py',
    '../_base_/schedules/sgd_steplr-200e.py',
    '../_base_/default_runtime.py',
]
model = dict(queue_len=4096, momentum=0.99, bn_splits=8, backbone=dict(cifar_stem=True))
optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
