# AdamW at lr 3e-4 over 6 epochs with MoCo v1's step schedule: x0.1 at 60% and 80% of the
# epochs (after epochs 4 and 5), the CPU budget of MoCo v1.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-4, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[4, 5], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=6)
auto_scale_lr = dict(base_batch_size=256)
