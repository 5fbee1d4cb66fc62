# CIFAR-10 for pretraining with two MoCo v1 views per image; everything else as for v2.
_base_ = ['./cifar10_mocov2.py']
view_pipeline = [dict(type='MoCoV1Augment', size=32)]
train_pipeline = [dict(type='MultiView', transforms=view_pipeline, num_views=2)]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
