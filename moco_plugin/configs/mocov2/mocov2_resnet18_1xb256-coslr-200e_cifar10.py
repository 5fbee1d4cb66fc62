# MoCo v2, ResNet-18 with CIFAR stem, CIFAR-10, 1 device x batch 256, cosine LR, 200 epochs.
# Settings of the MoCo authors' CIFAR-10 demo (82.6% k-NN at 200 epochs): K=4096,
# momentum 0.99, T=0.1, split-BN with 8 sub-batches, weight decay 5e-4; their lr 0.06
# at batch 512 is scaled linearly to 0.03 at batch 256.
_base_ = [
    '../_base_/models/mocov2_resnet18.py',
    '../_base_/datasets/cifar10_mocov2.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    queue_len=4096,
    momentum=0.99,
    bn_splits=8,
    backbone=dict(cifar_stem=True),
    head=dict(temperature=0.1),
)
optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
