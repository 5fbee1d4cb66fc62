# Encoder, views and loss of the CPU-budget mechanism configs (end-to-end, memory bank), as
# in ../../mocov2/mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py: ResNet-18 with the
# ImageNet stem on 32 px, MoCo v2's MLP neck, InfoNCE at T=0.1, weak-jitter views made on the
# training device. The config that inherits it names the algorithm (model.type) and its
# arguments, so the mechanisms differ only in how negatives are made.
model = dict(
    data_preprocessor=dict(type='SelfSupDataPreprocessor', batch_augment=dict(
        type='BatchMoCoAugment', size=32, scale=(0.2, 1.0), jitter_prob=0.8, brightness=0.2,
        contrast=0.2, saturation=0.2, hue=0.05, grayscale_prob=0.0, blur_prob=0.0, flip_prob=0.5,
        compile=True)),
    backbone=dict(type='ResNet', depth=18, cifar_stem=False),
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512, out_channels=128),
    head=dict(type='InfoNCEHead', temperature=0.1),
)
