"""A registered version is read and checked once per Registry object (one command's run): a
fleet of instances of one version does not read its files again for each; a new Registry (the
next command) checks the files anew."""

from __future__ import annotations

import pytest

from protoncli.blueprints.registry import Registry
from protoncli.errors import RegistryError


def test_a_version_is_loaded_once_per_registry_and_checked_by_the_next(registry, bundles):
    info = registry.publish(bundles.environment("network")).version
    first = registry.load(info)
    template = registry.bundle_dir(info) / "infrastructure" / "cloudformation.yaml"
    template.chmod(0o644)
    template.write_text(template.read_text() + "# edited after publishing\n")

    assert registry.load(info) is first  # this run already checked it
    with pytest.raises(RegistryError, match="changed after the version was registered"):
        Registry(registry.root).load(info)  # the next run reads and checks the files again


def test_versions_are_loaded_apart(registry, bundles):
    first = registry.publish(bundles.environment("network")).version
    second = registry.publish(bundles.environment("network", description="second")).version

    assert registry.load(first) is not registry.load(second)
    assert registry.load(second) is registry.load(second)
