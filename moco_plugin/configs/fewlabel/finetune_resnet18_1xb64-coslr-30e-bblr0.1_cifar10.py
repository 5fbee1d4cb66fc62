# Few labels, full fine-tuning as in OpenSelfSup / mmselfsup's 1 % / 10 % ImageNet
# semi-supervised configs: SGD, cosine schedule, the backbone at lr x backbone_lr_mult
# (the head learns 10x faster). 30 epochs of the labelled (+ pseudo-labelled) images,
# random-resized-crop (scale 0.5-1, mild for 32 px images) + flip.
mode = 'finetune'
finetune = dict(epochs=30, lr=0.1, backbone_lr_mult=0.1, momentum=0.9, weight_decay=5e-4,
                batch_size=64)
train_pipeline = [dict(type='RandomResizedCropFlip', size=32, scale=(0.5, 1.0))]
