# CIFAR-10 for pretraining: two MoCo v2 "aug+" views per image (no blur at 32 px).
# The data root comes from --data-root, else $MOCO_DATA_ROOT, else data/cifar10.
dataset_type = 'CIFAR10'
data_root = '{{$MOCO_DATA_ROOT:data/cifar10}}'
view_pipeline = [dict(type='MoCoV2Augment', size=32)]
train_pipeline = [dict(type='MultiView', transforms=view_pipeline, num_views=2)]

train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=False,  # fresh workers each epoch: their seeds follow the (checkpointed) RNG
    drop_last=True,  # the queue must receive whole batches
    sampler=dict(type='ResumableSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    worker_init_fn=dict(type='moco_plugin.worker_init_from_torch_seed'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', in_memory=True,
                 pipeline=train_pipeline),
)
