"""Datasets, transforms and data-loading functions (importing registers them)."""
from moco_plugin.datasets import transforms  # noqa: F401
from moco_plugin.datasets.array_dataset import ArrayImageDataset
from moco_plugin.datasets.base_dataset import BaseImageDataset, build_pipeline
from moco_plugin.datasets.cifar10 import CIFAR10
from moco_plugin.datasets.cifar100 import CIFAR100
from moco_plugin.datasets.csv_dataset import CsvImageDataset
from moco_plugin.datasets.device_array_dataset import DeviceArrayDataset
from moco_plugin.datasets.heldout_part import HeldOutPartDataset
from moco_plugin.datasets.image_files import ImageFilesDataset, list_image_files
from moco_plugin.datasets.image_folder import ImageFolderDataset
from moco_plugin.datasets.image_io import CorruptImageError, load_rgb
from moco_plugin.datasets.label_files import (LabelSet, dataset_fingerprint, image_ids,
                                              make_label_set, read_label_file, write_label_file)
from moco_plugin.datasets.label_subset import (LabelSubsetDataset, balanced_label_indices,
                                               balanced_label_set)
from moco_plugin.datasets.resumable_sampler import ResumableSampler
from moco_plugin.datasets.stl10 import STL10
from moco_plugin.datasets.worker_init import worker_init_from_torch_seed

__all__ = ['ArrayImageDataset', 'BaseImageDataset', 'CIFAR10', 'CIFAR100', 'CorruptImageError',
           'CsvImageDataset', 'DeviceArrayDataset', 'HeldOutPartDataset', 'ImageFilesDataset', 'ImageFolderDataset',
           'LabelSet', 'LabelSubsetDataset', 'ResumableSampler', 'STL10', 'balanced_label_indices',
           'balanced_label_set', 'build_pipeline', 'dataset_fingerprint', 'image_ids',
           'list_image_files', 'load_rgb', 'make_label_set', 'read_label_file',
           'worker_init_from_torch_seed', 'write_label_file']
