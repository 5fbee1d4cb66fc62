"""Model zoo: checkpoints by name, official MoCo conversion, export to downstream formats.

Quick use::

    from moco_plugin import zoo
    path = zoo.download_checkpoint('mocov2_resnet50_800e_in1k_official')  # cached, verified
    checkpoint = zoo.load_checkpoint('zoo://mocov2_resnet50_800e_in1k_official')  # our keys
    resnet_weights = zoo.to_torchvision(checkpoint)  # torchvision.models.resnet50() keys, no fc

``zoo://NAME`` also works wherever MMEngine takes a checkpoint (``load_from``,
``--resume``, ``init_cfg``) once ``moco_plugin.engine`` is imported.
"""
from moco_plugin.zoo.download import Checksum, ChecksumError, DownloadError, download_file
from moco_plugin.zoo.export import (backbone_state_dict, detectron2_key, export, to_detectron2,
                                    to_mmengine, to_torchvision)
from moco_plugin.zoo.layouts import (OFFICIAL, PROJECT, convert_if_official, detect_layout,
                                     official_to_project, project_state_dict)
from moco_plugin.zoo.loading import (ZOO_PREFIX, KeyMismatchError, checkpoint_cache_dir,
                                     download_checkpoint, load_checkpoint, load_pretrained,
                                     load_state_dict_strictly, resolve_checkpoint)
from moco_plugin.zoo.metafile import load_zoo, read_metafile
from moco_plugin.zoo.schema import UnknownCheckpointError, ZooEntry

__all__ = [
    'Checksum', 'ChecksumError', 'DownloadError', 'KeyMismatchError', 'OFFICIAL', 'PROJECT',
    'UnknownCheckpointError', 'ZOO_PREFIX', 'ZooEntry', 'backbone_state_dict',
    'checkpoint_cache_dir', 'convert_if_official', 'detect_layout', 'detectron2_key',
    'download_checkpoint', 'download_file', 'export', 'load_checkpoint', 'load_pretrained',
    'load_state_dict_strictly', 'load_zoo', 'official_to_project', 'project_state_dict',
    'read_metafile', 'resolve_checkpoint', 'to_detectron2', 'to_mmengine',
    'to_torchvision',
]
