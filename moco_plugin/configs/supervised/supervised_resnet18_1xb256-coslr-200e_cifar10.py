# Supervised baseline, ResNet-18 with CIFAR stem, CIFAR-10 with labels, 1 device x batch
# 256, cosine LR, 200 epochs: the same backbone, optimizer and schedule as
# configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py, one view per image with
# RandomResizedCrop + flip (no colour distortion: the labels carry the signal).
_base_ = [
    '../_base_/models/supervised_resnet18.py',
    '../_base_/datasets/cifar10_mocov2.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(cifar_stem=True))
train_dataloader = dict(
    drop_last=False,
    dataset=dict(pipeline=[dict(type='RandomResizedCropFlip', size=32, scale=(0.2, 1.0))]))
optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
