"""ImageFilesDataset (a user's folder or CSV of images), bad-image skipping, HeldOutPartDataset."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from moco_plugin.datasets import (CorruptImageError, CsvImageDataset, HeldOutPartDataset,
                                  ImageFilesDataset)
from moco_plugin.datasets import base_dataset, image_files
from moco_plugin.datasets.csv_dataset import read_label_table
from moco_plugin.datasets.heldout_part import stratified_parts
from moco_plugin.datasets.image_files import detect_delimiter, list_image_files, read_image_list


def _image(path, size=(20, 16), value=100, mode='RGB'):
    path.parent.mkdir(parents=True, exist_ok=True)
    color = value if mode in ('L',) else (value, 255 - value, 7)
    Image.new(mode, size, color).save(path)
    return path


@pytest.fixture()
def nested(tmp_path):
    """Images directly in the folder next to class folders and folders of folders."""
    root = tmp_path / 'photos'
    files = [_image(root / 'top.jpg'), _image(root / 'b' / 'one.PNG', mode='L'),
             _image(root / 'a' / 'x' / 'y' / 'deep.ppm'), _image(root / 'a' / 'two.webp')]
    (root / 'a' / 'notes.txt').write_text('not an image')
    _image(root / '.thumbs' / 'hidden.jpg')
    _image(root / 'a' / '.hidden.jpg')
    return root, sorted(str(f) for f in files)


def test_every_image_at_any_depth_counts_hidden_ones_do_not(nested):
    root, files = nested
    assert list_image_files(str(root)) == files
    ds = ImageFilesDataset(str(root), in_memory_size=12, pipeline=[])
    assert len(ds) == 4 and ds.item_files() == files
    assert [ds.get_label(i) for i in range(4)] == [-1] * 4
    assert ds._array.shape == (4, 12, 12, 3)  # mixed sizes and modes, one uint8 array
    assert np.asarray(ds.get_image(1)).shape == (12, 12, 3)  # the grayscale PNG, as RGB


def test_flat_folder(tmp_path):
    for i in range(3):
        _image(tmp_path / 'flat' / f'{i}.jpg', size=(8 + i, 9))
    ds = ImageFilesDataset(str(tmp_path / 'flat'), in_memory_size=8)
    assert len(ds) == 3 and ds._array.shape == (3, 8, 8, 3)


def test_csv_of_paths_with_bom_crlf_and_semicolons(nested, tmp_path):
    root, files = nested
    table = root / 'list.csv'
    rows = ['Path;comment', 'top.jpg;first', 'a/two.webp;"a;b"', '', f'{root}/b/one.PNG;abs']
    table.write_bytes(('\ufeff' + '\r\n'.join(rows) + '\r\n').encode('utf-8'))
    assert read_image_list(str(table)) == [str(root / 'top.jpg'), str(root / 'a' / 'two.webp'),
                                           str(root / 'b' / 'one.PNG')]
    ds = ImageFilesDataset(str(table), in_memory_size=10)
    assert len(ds) == 3 and ds._array.shape == (3, 10, 10, 3)
    tsv = root / 'list.tsv'
    tsv.write_text('id\tfilename\n1\ttop.jpg\n')
    assert read_image_list(str(tsv)) == [str(root / 'top.jpg')]


def test_delimiter_detection():
    assert detect_delimiter('path,label\n') == ','
    assert detect_delimiter('path;label\r\n') == ';'
    assert detect_delimiter('path\tlabel;x') == '\t'
    assert detect_delimiter('path\n') == ','
    assert detect_delimiter('a,b', 'x.TSV') == '\t'


def test_labelled_csv_with_semicolons_and_bom(tmp_path):
    _image(tmp_path / 'i' / 'a.png')
    _image(tmp_path / 'i' / 'b.png')
    table = tmp_path / 'labels.csv'
    table.write_bytes('\ufeffpath;label\r\ni/a.png;cat\r\ni/b.png;dog\r\n'.encode())
    paths, labels, _ = read_label_table(str(table))
    assert (paths, labels) == (['i/a.png', 'i/b.png'], ['cat', 'dog'])
    assert CsvImageDataset(str(table)).classes == ['cat', 'dog']


@pytest.mark.parametrize('make, message', [
    (lambda p: p / 'missing', 'no such folder or CSV/TSV file'),
    (lambda p: (p / 'empty').mkdir() or p / 'empty', 'no images'),
    (lambda p: (p / 'x.csv').write_text('file_name_x,label\na.jpg,1\n') and p / 'x.csv',
     'no path column in the header \\(file_name_x, label\\)'),
    (lambda p: (p / 'y.csv').write_text('path\nnope.jpg\n') and p / 'y.csv',
     '1 listed image\\(s\\) do not exist'),
    (lambda p: (p / 'z.json').write_text('{}') and p / 'z.json', 'neither a folder nor'),
])
def test_unusable_sources_are_one_line_errors(tmp_path, make, message):
    with pytest.raises((FileNotFoundError, ValueError), match=message) as info:
        ImageFilesDataset(str(make(tmp_path)), in_memory_size=8)
    assert '\n' not in str(info.value)


@pytest.fixture()
def with_bad(tmp_path):
    root = tmp_path / 'mixed'
    for i in range(5):
        _image(root / f'{i}.jpg', value=40 * i)
    (root / '2.jpg').write_bytes(b'\xff\xd8\xff\xe0 garbage')
    (root / 'sub').mkdir()
    (root / 'sub' / 'empty.png').write_bytes(b'')
    return root


def test_bad_images_stop_the_run_by_default_naming_the_file(with_bad):
    with pytest.raises(CorruptImageError, match=r"cannot decode image .*2\.jpg .*on_bad_image='skip'"):
        ImageFilesDataset(str(with_bad), in_memory_size=8)


def test_bad_images_are_skipped_listed_and_survive_the_cache(with_bad, monkeypatch, tmp_path):
    first = ImageFilesDataset(str(with_bad), in_memory_size=8, on_bad_image='skip')
    assert [os.path.basename(p) for p, _ in first.bad_images] == ['2.jpg', 'empty.png']
    assert all(reason for _, reason in first.bad_images)
    assert len(first) == 4 and first._array.shape == (4, 8, 8, 3)
    assert [os.path.basename(f) for f in first.item_files()] == ['0.jpg', '1.jpg', '3.jpg', '4.jpg']
    # the good images stay where they were: item i is the image of file i
    np.testing.assert_array_equal(np.asarray(first.get_image(2)),
                                  np.asarray(Image.open(with_bad / '3.jpg').convert('RGB')
                                             .resize((8, 8), Image.BILINEAR)))
    bad_list = (tmp_path.parent / 'moco_cache' / 'decoded' /
                f'ImageFilesDataset-{first.content_fingerprint()[:16]}.bad.json')
    assert len(json.loads(bad_list.read_text())['bad']) == 2  # next to the cached array

    def no_decoding(path):
        raise AssertionError('a cache hit decodes nothing')
    monkeypatch.setattr(base_dataset, 'load_rgb', no_decoding)  # FileListDataset reads with it
    again = ImageFilesDataset(str(with_bad), in_memory_size=8, on_bad_image='skip')
    assert again.bad_images == first.bad_images and again.item_files() == first.item_files()
    np.testing.assert_array_equal(again._array, first._array)
    with pytest.raises(CorruptImageError, match=r'2\.jpg'):  # the cached list still refuses
        ImageFilesDataset(str(with_bad), in_memory_size=8)


def test_all_images_bad_is_one_error(tmp_path):
    for i in range(2):
        (tmp_path / f'{i}.jpg').write_bytes(b'nope')
    with pytest.raises(ValueError, match=r'none of the 2 images could be decoded, e\.g\. .*0\.jpg'):
        ImageFilesDataset(str(tmp_path), in_memory_size=8, on_bad_image='skip')


def test_skip_needs_the_in_memory_decode(tmp_path):
    _image(tmp_path / 'a.jpg')
    with pytest.raises(ValueError, match='in_memory=True'):
        ImageFilesDataset(str(tmp_path), in_memory=False)


def test_heldout_parts_are_disjoint_stratified_and_deterministic(tmp_path):
    labels = np.repeat(np.arange(3), [10, 5, 2])
    bank, query = stratified_parts(labels, 0.2, seed=0)
    assert len(np.intersect1d(bank, query)) == 0 and len(bank) + len(query) == 17
    assert [int((labels[query] == c).sum()) for c in range(3)] == [2, 1, 1]
    np.testing.assert_array_equal(stratified_parts(labels, 0.2, seed=0)[1], query)

    rows = ['path,label']
    for c in range(2):
        for i in range(5):
            _image(tmp_path / f'c{c}_{i}.png', value=30 * i + 100 * c)
            rows.append(f'c{c}_{i}.png,class{c}')
    (tmp_path / 'labels.csv').write_text('\n'.join(rows) + '\n')
    source = dict(type='CsvImageDataset', data_root=str(tmp_path / 'labels.csv'),
                  pipeline=[dict(type='ResizeCenterCrop', size=8)])
    bank_set = HeldOutPartDataset(source, 'bank')
    query_set = HeldOutPartDataset(source, 'query')
    assert (len(bank_set), len(query_set)) == (8, 2)
    assert sorted(query_set.labels.tolist()) == [0, 1] and bank_set.classes == ['class0', 'class1']
    assert not set(bank_set.indices) & set(query_set.indices)
    assert query_set[0]['inputs'].shape == (3, 8, 8)
    assert len(HeldOutPartDataset(source, 'bank', max_size=4)) == 4


def test_heldout_part_refuses_unlabelled_images(tmp_path):
    for i in range(3):
        _image(tmp_path / f'{i}.png')
    with pytest.raises(ValueError, match='have no label'):
        HeldOutPartDataset(dict(type='ImageFolderDataset', data_root=str(tmp_path)), 'bank')
