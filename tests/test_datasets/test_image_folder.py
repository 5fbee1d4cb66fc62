import numpy as np
import pytest
import torch
from PIL import Image

from moco_plugin.datasets import CorruptImageError, ImageFolderDataset


@pytest.fixture()
def messy_folder(tmp_path):
    """An ImageNet-style folder as users have them: mixed sizes, modes and extension case."""
    root = tmp_path / 'imgs' / 'train'
    (root / 'cats').mkdir(parents=True)
    (root / 'dogs' / 'nested').mkdir(parents=True)
    Image.new('RGB', (40, 30), (255, 0, 0)).save(root / 'cats' / 'a.JPG')
    Image.new('L', (17, 50), 128).save(root / 'cats' / 'b.png')
    Image.new('CMYK', (20, 20), (0, 255, 0, 0)).save(root / 'cats' / 'c.jpeg')
    Image.new('P', (25, 25)).save(root / 'dogs' / 'd.GIF')
    Image.new('RGBA', (33, 21), (0, 0, 255, 100)).save(root / 'dogs' / 'nested' / 'e.Png')
    Image.fromarray(np.full((12, 12), 40000, dtype=np.uint16)).save(root / 'dogs' / 'f.tif')
    (root / 'dogs' / 'notes.txt').write_text('not an image')
    return root.parent


def test_reads_all_modes_and_extension_cases_as_rgb(messy_folder):
    ds = ImageFolderDataset(str(messy_folder), split='train',
                            pipeline=[dict(type='ResizeCenterCrop', size=16, resize=16)])
    assert ds.classes == ['cats', 'dogs']
    assert len(ds) == 6  # the .txt file is ignored
    assert [ds.get_label(i) for i in range(6)] == [0, 0, 0, 1, 1, 1]
    for i in range(len(ds)):
        item = ds[i]
        assert item['inputs'].shape == (3, 16, 16) and item['inputs'].dtype == torch.uint8
    cmyk_green = ds.get_image(2).getpixel((5, 5))
    assert cmyk_green[1] < 100 and cmyk_green[0] > 150  # CMYK magenta-free -> converted, not raw


def test_corrupt_image_names_the_file(messy_folder):
    bad = messy_folder / 'train' / 'cats' / 'broken.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    ds = ImageFolderDataset(str(messy_folder), split='train')
    index = [p for p, _ in ds.samples].index(str(bad))
    with pytest.raises(CorruptImageError, match='cannot decode image .*broken.jpg.*delete or replace'):
        ds.get_image(index)


def test_missing_folder_says_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match='--data-root'):
        ImageFolderDataset(str(tmp_path / 'nowhere'), split='train')


def test_folder_without_images_is_an_error(tmp_path):
    (tmp_path / 'train' / 'empty_class').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='no images'):
        ImageFolderDataset(str(tmp_path), split='train')


def test_unlabelled_flat_folder_gets_label_minus_one(tmp_path):
    for i in range(3):
        Image.new('RGB', (8, 8)).save(tmp_path / f'{i}.jpg')
    ds = ImageFolderDataset(str(tmp_path))
    assert len(ds) == 3 and ds.get_label(0) == -1


def test_in_memory_requires_one_size(messy_folder):
    with pytest.raises(ValueError, match='in_memory=True needs images of one size'):
        ImageFolderDataset(str(messy_folder), split='train', in_memory=True)
