# CIFAR-10 decoded once into memory and held on the training device: the loader hands out
# image indices only (DeviceArrayDataset), the model's DeviceDataPreprocessor gathers them on
# the device and its batch_augment (BatchMoCoAugment) makes the views there. A config using
# it adds dict(type='DeviceDataHook') to custom_hooks (uploads the images before training).
# The sampler, its seed and resume are those of every other config.
# The data root comes from --data-root, else $MOCO_DATA_ROOT, else data/cifar10.
dataset_type = 'CIFAR10'
data_root = '{{$MOCO_DATA_ROOT:data/cifar10}}'

train_dataloader = dict(
    batch_size=512,
    num_workers=0,  # each item is three Python integers: collation costs well under 1 ms
    persistent_workers=False,
    drop_last=True,  # the queue must receive whole batches
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='DeviceArrayDataset',
                 dataset=dict(type=dataset_type, data_root=data_root, split='train',
                              in_memory=True)),
)
