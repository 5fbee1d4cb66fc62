# A short CPU-sized MoCo v2 run for a first try on a laptop-class machine (2 cores):
# ResNet-18 with the standard ImageNet stem on 32x32 images (16x fewer FLOPs than the
# CIFAR stem), a 10,000-image class-balanced subset of CIFAR-10, 3 epochs, batch 128.
_base_ = ['./mocov2_resnet18_1xb256-coslr-200e_cifar10.py']
model = dict(queue_len=4096, bn_splits=8, backbone=dict(cifar_stem=False), head=dict(temperature=0.2))
train_dataloader = dict(batch_size=128, dataset=dict(subset_size=10000))
optim_wrapper = dict(optimizer=dict(lr=0.06, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=3, by_epoch=True, begin=0, end=3)]
train_cfg = dict(max_epochs=3)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1))
