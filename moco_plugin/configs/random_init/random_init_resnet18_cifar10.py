# Random-init baseline: ResNet-18 with CIFAR stem as initialised, never trained.
# EVALUATION ONLY: there is nothing to pretrain, so tools/train.py is not needed (and
# refuses this model). Evaluate it with the checkpoint argument `random`:
#   python tools/benchmark_linear.py configs/random_init/random_init_resnet18_cifar10.py random
# The dataset and schedule are those of the other CIFAR-10 configs so that the benchmark
# reads the same data root and the config stays loadable by every tool.
_base_ = [
    '../_base_/models/random_init_resnet18.py',
    '../_base_/datasets/cifar10_mocov2.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(cifar_stem=True))
optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))  # unused; kept like the others
