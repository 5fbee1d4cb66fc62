# The memory-bank mechanism (InstDisc, arXiv:1805.01978) at MoCo v2's CPU budget, for the
# MoCo paper's comparison of mechanisms (Fig. 3): the budget, backbone, neck, temperature and
# views of ../mocov2/mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py; a bank of one
# feature per training image (50,000), K=4096 negatives drawn from it per query, entries
# updated with momentum 0.5. bank_size must equal the number of training images (QueueHook
# checks it): with train_dataloader.dataset.subset_size=N set model.bank_size=N too.
_base_ = [
    '../_base_/models/contrast_resnet18_cpu.py',
    '../_base_/datasets/cifar10_batchaug.py',
    '../_base_/schedules/adamw_coslr-6e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='MemoryBankContrast',
    bank_size=50000,
    feat_dim=128,
    num_negatives=4096,
    bank_momentum=0.5,
)
train_dataloader = dict(batch_size=64)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
custom_hooks = [
    dict(type='QueueHook'),  # writes the bank after each step
    dict(type='KNNMonitorHook', interval=1, k=200, bank_size=5000, query_size=1000, num_workers=0),
]
