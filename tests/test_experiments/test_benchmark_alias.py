"""tools/benchmark_linear.py is the old name of tools/benchmark.py: it says so and runs it."""
from moco_plugin.cli import benchmark_linear
from moco_plugin.cli.benchmark import main
from tests.conftest import run_tool


def test_the_old_tool_name_says_it_is_an_alias_and_runs_the_new_one():
    new = run_tool('tools/benchmark.py', '--help')
    old = run_tool('tools/benchmark_linear.py', '--help')
    assert new.returncode == old.returncode == 0
    assert old.stdout == new.stdout and 'usage: benchmark.py' in new.stdout
    assert old.stderr.splitlines() == [benchmark_linear.ALIAS_NOTE] and not new.stderr
    assert 'alias of tools/benchmark.py' in benchmark_linear.ALIAS_NOTE
    assert benchmark_linear.main is main  # code importing the old module gets the new tool
