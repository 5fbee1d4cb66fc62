default_scope = 'moco_plugin'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic_local: written to a temporary file, then renamed (never a half checkpoint);
    # SafeCheckpointHook: old checkpoints deleted only after the new one is in place,
    # last_checkpoint written atomically, strict checks on --resume and load_from
    checkpoint=dict(type='SafeCheckpointHook', interval=10, max_keep_ckpts=3,
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # RNG states go into checkpoints so that a resumed run replays the uninterrupted one
    rng_state=dict(type='RNGStateHook'),
    # a checkpoint saved inside an epoch continues there exactly (sampler, workers' RNG)
    data_position=dict(type='DataPositionHook'),
    # SIGTERM / SIGUSR1: checkpoint after the step in progress, exit 75 (resume with --resume)
    preemption=dict(type='PreemptionHook', signals=('SIGTERM', 'SIGUSR1'), exit_code=75),
    progress_bar=dict(type='ProgressBarHook'),
    loss_curve=dict(type='LossCurveHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(window_size=10, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
