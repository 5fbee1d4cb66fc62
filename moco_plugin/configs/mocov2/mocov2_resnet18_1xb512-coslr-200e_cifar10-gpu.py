# MoCo v2, ResNet-18 (CIFAR stem), CIFAR-10, one GPU x batch 512, cosine LR, 200 epochs.
# The settings of the MoCo authors' CIFAR-10 demo (k-NN 82.6% at 200 epochs): K=4096,
# momentum 0.99, T=0.1, split-BN with 8 sub-batches, SGD lr 0.06 at batch 512 (linear scaling
# from there: auto_scale_lr), weight decay 5e-4, cosine decay, k-NN monitor (k=200, T=0.1).
# The GPU fast paths, each switchable (measured by benchmarks/scripts/gpu_check.py, see
# benchmarks/results/gpu/README.md): data on the device (cifar10_device.py + DeviceDataHook), batched
# augmentation compiled, bf16 autocast, fused SGD, channels_last and compiled encoders
# (FastPathHook), the loss read back every 50 steps (LazyRuntimeInfoHook), k-NN on the GPU.
#   python tools/train.py configs/mocov2/mocov2_resnet18_1xb512-coslr-200e_cifar10-gpu.py \
#       --data-root DIR
# (no --amp: bf16 is set here; tools/train.py --amp on a GPU would switch to fp16 with loss
# scaling, whose overflow check reads a flag back at every step.)
_base_ = [
    '../_base_/models/mocov2_resnet18.py',
    '../_base_/datasets/cifar10_device.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    queue_len=4096,
    momentum=0.99,
    bn_splits=8,
    backbone=dict(cifar_stem=True),
    head=dict(temperature=0.1),
    data_preprocessor=dict(
        type='DeviceDataPreprocessor', num_views=2,
        batch_augment=dict(type='BatchMoCoAugment', size=32, scale=(0.2, 1.0), jitter_prob=0.8,
                           brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1,
                           grayscale_prob=0.2, blur_prob=0.0, flip_prob=0.5, compile=True)),
)
optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16',
                     optimizer=dict(lr=0.06, weight_decay=5e-4, fused=True))
auto_scale_lr = dict(base_batch_size=512)
custom_hooks = [
    dict(type='MomentumUpdateHook'),
    dict(type='QueueHook'),
    dict(type='DeviceDataHook'),
    dict(type='FastPathHook', channels_last=True, compile=True),
    dict(type='KNNMonitorHook', interval=10, k=200, temperature=0.1, bank_size=5000,
         query_size=1000, num_workers=0, backend='auto'),
]
default_hooks = dict(runtime_info=dict(type='LazyRuntimeInfoHook', interval=50))
env_cfg = dict(cudnn_benchmark=True)
