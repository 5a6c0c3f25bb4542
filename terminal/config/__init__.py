"""Configuration: the typed schema, the layered loader, and what configuration means for a sale."""

from terminal.config.loader import (
    ENV_CONFIG_DIR,
    ENV_DEVICE_FILE,
    ConfigError,
    LoadedConfig,
    check_file,
    config_dir,
    default_device_file,
    load_config,
    render_effective,
)
from terminal.config.schema import Config

__all__ = [
    "ENV_CONFIG_DIR",
    "ENV_DEVICE_FILE",
    "Config",
    "ConfigError",
    "LoadedConfig",
    "check_file",
    "config_dir",
    "default_device_file",
    "load_config",
    "render_effective",
]
