"""Packaging detail pyproject.toml cannot say: firmware_config/ (top level, as the design card
fixes it) ships inside the package as terminal.firmware_config."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["terminal*"]),
        "terminal.firmware_config",
        "terminal.firmware_config.issuers",
    ],
    package_dir={"terminal.firmware_config": "firmware_config"},
    package_data={"terminal.firmware_config": ["*.toml", "issuers/*.toml"]},
)
