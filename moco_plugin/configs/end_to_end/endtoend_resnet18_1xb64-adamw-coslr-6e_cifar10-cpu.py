# The end-to-end mechanism (MoCo paper Fig. 2a) at MoCo v2's CPU budget: keys from the query
# encoder with gradients, the negatives of a query are the other 63 keys of its batch
# (K = batch size - 1). Budget, backbone, neck, temperature and views as
# ../mocov2/mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py; K grows only with the batch.
_base_ = [
    '../_base_/models/contrast_resnet18_cpu.py',
    '../_base_/datasets/cifar10_batchaug.py',
    '../_base_/schedules/adamw_coslr-6e.py',
    '../_base_/default_runtime.py',
]

model = dict(type='EndToEndContrast')
train_dataloader = dict(batch_size=64)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
custom_hooks = [
    dict(type='KNNMonitorHook', interval=1, k=200, bank_size=5000, query_size=1000, num_workers=0),
]
