# MoCo v2 on CIFAR-10 exactly as mocov2_resnet18_1xb256-coslr-200e_cifar10.py, but the two
# aug+ views are made on the training device for the whole batch (BatchMoCoAugment: same
# parameter distributions as the per-image MoCoV2Augment, tested in
# tests/test_models/test_data_preprocessors) from images decoded once and kept in memory.
# On a 2-core CPU this removes the per-image PIL work that bounded throughput; see
# benchmarks/results/throughput/README.md.
_base_ = ['./mocov2_resnet18_1xb256-coslr-200e_cifar10.py']

model = dict(data_preprocessor=dict(
    batch_augment=dict(type='BatchMoCoAugment', size=32, scale=(0.2, 1.0), jitter_prob=0.8,
                       brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, grayscale_prob=0.2,
                       blur_prob=0.0, flip_prob=0.5,
                       # Fuses the per-pixel work (about 40% less augmentation time on CPU); the
                       # first iteration compiles (~15-45 s), and without a working compiler it
                       # falls back to eager mode with a warning. Set False to skip.
                       compile=True)))
train_dataloader = dict(
    num_workers=1,  # indexing + collation only; the augmentation runs in the training process
    dataset=dict(in_memory=True, pipeline=[dict(type='UnaugmentedViews', num_views=2)]))
