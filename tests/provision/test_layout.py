"""The provisioned paths are the configuration's defaults, spelled once (review 2.4): what
provisioning writes, what the selftest and diagnostics assume, and defaults.toml agree."""

from __future__ import annotations

from terminal.config.loader import load_config
from terminal.provision.layout import STATE_DIR, ProvisionedPaths


def test_provisioned_paths_are_the_configuration_defaults():
    paths = load_config(device_file=None, env={}).config.paths
    assert ProvisionedPaths.state_dir == STATE_DIR
    for name in ("state_dir", "database", "device_key", "device_cert"):
        assert str(getattr(paths, name)) == getattr(ProvisionedPaths, name), name
