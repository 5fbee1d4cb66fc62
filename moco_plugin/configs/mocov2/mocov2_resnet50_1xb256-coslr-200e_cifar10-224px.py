# MoCo v2, ResNet-50 with the ImageNet stem on CIFAR-10 resized to 224 px: the other side of
# the first source report's comparison (vs mocov2_resnet50_1xb256-coslr-200e_cifar10.py,
# native 32 px). The 32 px images are decoded once into memory and each view is cropped and
# resized to 224 px on the training device (BatchMoCoAugment, the aug+ recipe). A training
# step costs 3.3x the 32 px ResNet-50's per image and 11x the 32 px ResNet-18's on the
# development CPU (benchmarks/results/ablations/README.md, resolution comparison): a GPU run.
_base_ = ['./mocov2_resnet18_1xb256-coslr-200e_cifar10.py']

model = dict(
    backbone=dict(depth=50, cifar_stem=False),
    neck=dict(in_channels=2048, hid_channels=2048),
    data_preprocessor=dict(batch_augment=dict(
        type='BatchMoCoAugment', size=224, scale=(0.2, 1.0), jitter_prob=0.8, brightness=0.4,
        contrast=0.4, saturation=0.4, hue=0.1, grayscale_prob=0.2, blur_prob=0.5, flip_prob=0.5)),
)
train_dataloader = dict(dataset=dict(in_memory=True, pipeline=[dict(type='UnaugmentedViews', num_views=2)]))
