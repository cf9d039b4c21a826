"""Root conftest: loads the genprep plugin and registers hypothesis profiles."""
import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["genprep.pytest_plugin", "pytester"]

# Small, readable counterexamples; no deadline (CI machines are slow and shared).
settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
