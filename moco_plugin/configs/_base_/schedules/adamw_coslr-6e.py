# AdamW at lr 3e-4, cosine decay over 6 epochs: the short CPU budget (SGD at 0.03-0.06 stayed
# at random-init level for this few steps; benchmarks/results/comparison_cpu/README.md, short-budget study).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-4, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=6, by_epoch=True, begin=0, end=6)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=6)
auto_scale_lr = dict(base_batch_size=256)
