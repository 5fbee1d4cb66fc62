"""Two real processes (gloo on CPU): shuffle-BN round trip and a queue identical on every rank."""
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from tests.helpers.network import free_port

WORLD_SIZE = 2


def _worker(rank: int, port: int, results) -> None:
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                                  rank=rank, world_size=WORLD_SIZE)
    try:
        from moco_plugin.models.utils import FeatureQueue, shuffle_batch, unshuffle_batch

        torch.manual_seed(100 + rank)  # ranks draw different permutations unless broadcast works
        local = torch.arange(4, dtype=torch.float32).view(4, 1) + 10 * rank
        shuffled, unshuffle = shuffle_batch(local)
        restored = unshuffle_batch(shuffled, unshuffle)
        gathered_shuffled = [torch.zeros_like(shuffled) for _ in range(WORLD_SIZE)]
        torch_dist.all_gather(gathered_shuffled, shuffled)

        queue = FeatureQueue(size=8, dim=1)
        queue.stage(torch.full((2, 1), float(rank + 1)))
        queue.flush()
        results[rank] = dict(restored=restored, local=local, all_shuffled=torch.cat(gathered_shuffled),
                             queue=queue.features.clone(), ptr=int(queue.ptr))
    finally:
        torch_dist.destroy_process_group()


def test_shuffle_round_trip_and_identical_queues_across_ranks():
    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_worker, args=(free_port(), results), nprocs=WORLD_SIZE, join=True)
    r0, r1 = results[0], results[1]
    for r in (r0, r1):
        torch.testing.assert_close(r['restored'], r['local'])  # unshuffle inverts shuffle
    # every rank's shuffled slice together is a permutation of the global batch
    assert sorted(r0['all_shuffled'].flatten().tolist()) == [0, 1, 2, 3, 10, 11, 12, 13]
    assert r0['all_shuffled'].flatten().tolist() != [0, 1, 2, 3, 10, 11, 12, 13]
    # the queue holds both ranks' keys, in rank order, on both ranks
    torch.testing.assert_close(r0['queue'], r1['queue'])
    assert r0['queue'][:4].flatten().tolist() == [1.0, 1.0, 2.0, 2.0]
    assert r0['ptr'] == r1['ptr'] == 4
