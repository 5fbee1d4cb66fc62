# SimSiam, ResNet-18 with CIFAR stem, CIFAR-10, 1 device x batch 256, cosine LR, 200 epochs.
# Same backbone, data ("aug+" views), optimizer and schedule as
# configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py; lr 0.03 at batch 256 and
# weight decay 5e-4 are also the SimSiam paper's CIFAR-10 values (lr = 0.03 x batch / 256).
_base_ = [
    '../_base_/models/simsiam_resnet18.py',
    '../_base_/datasets/cifar10_mocov2.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(cifar_stem=True))
optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
