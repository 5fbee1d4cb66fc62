from moco_plugin.models.backbones.resnet import ResNet

__all__ = ['ResNet']
