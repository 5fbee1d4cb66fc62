# The end-to-end mechanism at the README main job's scale (20,000-image class-balanced subset,
# 2 epochs), for the comparison of mechanisms in benchmarks/results/ablations/ (K = batch size - 1).
_base_ = ['./endtoend_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py']

train_dataloader = dict(dataset=dict(subset_size=20000))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2)]
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=25))
