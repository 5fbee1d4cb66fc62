# ImageNet-style folders (data_root/train/<class>/<image>), 224 px MoCo v2 "aug+" views.
dataset_type = 'ImageFolderDataset'
data_root = '{{$MOCO_DATA_ROOT:data/imagenet}}'
view_pipeline = [dict(type='MoCoV2Augment', size=224)]
train_pipeline = [dict(type='MultiView', transforms=view_pipeline, num_views=2)]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=False,
    drop_last=True,
    sampler=dict(type='ResumableSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    worker_init_fn=dict(type='moco_plugin.worker_init_from_torch_seed'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline),
)
