# CIFAR-10 decoded once into memory, each image passed on as two unaugmented uint8 views:
# the config sets model.data_preprocessor.batch_augment (BatchMoCoAugment), which makes the
# MoCo views for the whole batch on the training device (benchmarks/results/throughput/README.md).
# The data root comes from --data-root, else $MOCO_DATA_ROOT, else data/cifar10.
dataset_type = 'CIFAR10'
data_root = '{{$MOCO_DATA_ROOT:data/cifar10}}'
train_pipeline = [dict(type='UnaugmentedViews', num_views=2)]

train_dataloader = dict(
    batch_size=256,
    num_workers=1,  # indexing + collation only; the augmentation runs in the training process
    persistent_workers=False,  # fresh workers each epoch: their seeds follow the (checkpointed) RNG
    drop_last=True,  # the queue must receive whole batches
    sampler=dict(type='ResumableSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    worker_init_fn=dict(type='moco_plugin.worker_init_from_torch_seed'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', in_memory=True,
                 pipeline=train_pipeline),
)
