# Few labels, linear probe on frozen features (cached): tools/train_few_labels.py --recipe.
# Unit-norm features make the lr scale-free; with <= 256 labels every epoch is one step.
mode = 'linear'
probe = dict(epochs=100, lr=10.0, batch_size=256, normalize=True, weight_decay=0.0,
             momentum=0.9, schedule='cos')
