"""Root conftest: the genprep plugin (which also registers the hypothesis profiles) and pytester.

Installed genprep registers the plugin for every pytest run (the `pytest11` entry point);
naming it here keeps a checkout working before `pip install -e .`.
"""
pytest_plugins = ["genprep.learner.pytest_plugin", "pytester"]
