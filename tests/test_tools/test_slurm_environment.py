"""tools/train.py --launcher slurm on CPU: torch.distributed's variables from slurm's."""
import pytest

from moco_plugin.cli.train import slurm_environment

SLURM = {'SLURM_PROCID': '3', 'SLURM_NTASKS': '8', 'SLURM_LOCALID': '1',
         'SLURM_NODELIST': 'node[01-02]'}


def test_rank_world_size_and_master_from_slurm():
    asked = []

    def first_host(nodes):
        asked.append(nodes)
        return 'node01'

    env = slurm_environment(SLURM, resolve_host=first_host)
    assert env == dict(RANK='3', WORLD_SIZE='8', LOCAL_RANK='1', MASTER_ADDR='node01',
                       MASTER_PORT='29500')
    assert asked == ['node[01-02]']


def test_exported_master_and_configured_port_take_precedence():
    def never(nodes):
        raise AssertionError('scontrol must not be asked when MASTER_ADDR is set')

    environ = dict(SLURM, MASTER_ADDR='10.0.0.5', MASTER_PORT='12345')
    assert slurm_environment(environ, resolve_host=never)['MASTER_PORT'] == '12345'
    env = slurm_environment(environ, resolve_host=never, port=23456)
    assert (env['MASTER_ADDR'], env['MASTER_PORT']) == ('10.0.0.5', '23456')
    without_local = {k: v for k, v in SLURM.items() if k != 'SLURM_LOCALID'}
    assert slurm_environment(without_local, resolve_host=lambda n: 'h')['LOCAL_RANK'] == '3'


def test_outside_slurm_is_a_clear_error():
    with pytest.raises(RuntimeError, match='SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST not set'):
        slurm_environment({})
