# The README's main job: mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py (the CPU
# comparison's settings) on a 20,000-image class-balanced subset for 2 epochs, so that
# install + pretraining + k-NN take a few minutes on 2 CPU cores.
_base_ = ['./mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py']

train_dataloader = dict(dataset=dict(subset_size=20000))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2)]
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=25))
