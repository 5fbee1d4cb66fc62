from moco_plugin.models.heads.infonce_head import InfoNCEHead

__all__ = ['InfoNCEHead']
