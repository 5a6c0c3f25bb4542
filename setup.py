"""Packaging detail pyproject.toml cannot say: top-level folders the design card fixes ship
inside the package: firmware_config/ as terminal.firmware_config, and docs/openapi.yaml as
terminal.docs (the platform simulator serves and validates against it)."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["terminal*"]),
        "terminal.firmware_config",
        "terminal.firmware_config.issuers",
        "terminal.docs",
    ],
    package_dir={"terminal.firmware_config": "firmware_config", "terminal.docs": "docs"},
    package_data={
        "terminal.firmware_config": ["*.toml", "issuers/*.toml"],
        "terminal.docs": ["openapi.yaml"],
    },
)
