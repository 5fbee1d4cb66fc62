"""tools/cache.py lists and clears the caches; downloads stay unless asked for."""
import pytest

from moco_plugin.cli import cache as cache_cli


def test_list_and_clear(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('MOCO_CACHE_DIR', str(tmp_path))
    for kind, size in (('decoded', 3000), ('features', 1000), ('checkpoints', 500)):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / 'a.npy').write_bytes(b'x' * size)
    assert cache_cli.usage()['decoded'] == dict(files=1, bytes=3000)
    with pytest.raises(SystemExit) as done:
        cache_cli.main(['list'])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert 'decoded' in out and 'features' in out and str(tmp_path) in out
    with pytest.raises(SystemExit):
        cache_cli.main(['clear'])
    assert not (tmp_path / 'decoded').exists() and not (tmp_path / 'features').exists()
    assert (tmp_path / 'checkpoints' / 'a.npy').exists()
    with pytest.raises(SystemExit):
        cache_cli.main(['clear', '--what', 'all'])
    assert cache_cli.usage()['checkpoints'] == dict(files=0, bytes=0)
