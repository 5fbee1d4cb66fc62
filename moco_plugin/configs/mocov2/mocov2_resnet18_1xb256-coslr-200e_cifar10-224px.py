# MoCo v2, ResNet-18 with the ImageNet stem on CIFAR-10 resized to 224 px (the ResNet-18 row
# of the resolution comparison; native 32 px with the CIFAR stem is
# mocov2_resnet18_1xb256-coslr-200e_cifar10.py). Views made at 224 px on the training device
# from the in-memory 32 px images (BatchMoCoAugment, aug+ recipe). A training step costs 3.8x
# the 32 px CIFAR-stem ResNet-18's per image on the development CPU
# (benchmarks/results/ablations/README.md, resolution comparison).
_base_ = ['./mocov2_resnet18_1xb256-coslr-200e_cifar10.py']

model = dict(
    backbone=dict(cifar_stem=False),
    data_preprocessor=dict(batch_augment=dict(
        type='BatchMoCoAugment', size=224, scale=(0.2, 1.0), jitter_prob=0.8, brightness=0.4,
        contrast=0.4, saturation=0.4, hue=0.1, grayscale_prob=0.2, blur_prob=0.5, flip_prob=0.5)),
)
train_dataloader = dict(dataset=dict(in_memory=True, pipeline=[dict(type='UnaugmentedViews', num_views=2)]))
