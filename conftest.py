"""Repository-level pytest settings."""


def pytest_sessionfinish(session, exitstatus):
    # pytest exits with 5 when it collects no test; a run that tested nothing must fail.
    if exitstatus == 5:
        session.exitstatus = 1

# `--doctest-modules` (pyproject addopts) imports every .py it collects. The configs are data files
# (MMEngine reads them by path) and tests/fixtures holds a script that builds fixtures when run:
# neither may be imported as a module.
collect_ignore_glob = ['moco_plugin/configs/*', 'tests/fixtures/*']
