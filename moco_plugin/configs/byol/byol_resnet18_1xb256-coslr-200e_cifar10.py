# BYOL, ResNet-18 with CIFAR stem, CIFAR-10, 1 device x batch 256, cosine LR, 200 epochs.
# Same backbone, data ("aug+" views), optimizer and schedule as
# configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py (the paper's LARS is not
# used); the target network follows the paper's momentum schedule 0.99 -> 1 (cosine).
_base_ = [
    '../_base_/models/byol_resnet18.py',
    '../_base_/datasets/cifar10_mocov2.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(cifar_stem=True))
optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
