"""The in-memory form of a template bundle, as Proton lays it out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from protoncli.schema.model import Schema


class Kind(StrEnum):
    ENVIRONMENT = "environment"
    SERVICE = "service"
    COMPONENT = "component"


class Engine(StrEnum):
    """`rendering_engine` of a manifest entry."""

    JINJA = "jinja"
    HCL = "hcl"
    CODEBUILD = "codebuild"


class Provisioning(StrEnum):
    CLOUDFORMATION = "cloudformation"
    TERRAFORM = "terraform"
    CODEBUILD = "codebuild"
    CUSTOMER_MANAGED = "customer-managed"


# Folder names inside a bundle, as Proton names them.
INFRASTRUCTURE = "infrastructure"
INSTANCE_INFRASTRUCTURE = "instance_infrastructure"
PIPELINE_INFRASTRUCTURE = "pipeline_infrastructure"
SCHEMA_FILE = "schema/schema.yaml"
MANIFEST = "manifest.yaml"
SKELETON = "skeleton"


@dataclass(frozen=True)
class TemplateEntry:
    """One entry of `infrastructure.templates` in a manifest."""

    engine: Engine
    language: str | None  # "cloudformation" | "terraform" | None (codebuild)
    file: str | None  # a file name, "*" (every .tf), or None (codebuild)
    settings: Mapping[str, Any] | None = None  # codebuild only


@dataclass(frozen=True)
class Manifest:
    """A manifest and the IaC files it selects.

    `folder` is the manifest's folder relative to the bundle root ("" for a component bundle).
    `files` maps file names relative to that folder to their text, in the order Proton would take
    them (the named file, or every `.tf` file sorted by name for `"*"`).
    """

    folder: str
    source: str  # path of manifest.yaml, for messages
    entry: TemplateEntry
    files: Mapping[str, str]

    @property
    def provisioning(self) -> Provisioning:
        if self.entry.engine is Engine.CODEBUILD:
            return Provisioning.CODEBUILD
        if self.entry.engine is Engine.HCL:
            return Provisioning.TERRAFORM
        return Provisioning.CLOUDFORMATION


@dataclass(frozen=True)
class CompatibleEnvironment:
    """An environment blueprint name and major version a service blueprint runs on."""

    name: str
    major: int

    def __str__(self) -> str:
        return f"{self.name}:{self.major}"


@dataclass(frozen=True)
class Bundle:
    """One blueprint version's files, parsed.

    `files` holds every file of the bundle (relative POSIX path → bytes), used for the content
    digest and for copying into a registry. Files outside the bundle proper (README.md, spec/,
    dev-resources/) are kept too: they are part of what a platform team publishes.
    """

    root: str  # where it was read from (directory or tarball), for messages
    kind: Kind
    schema: Schema | None  # None for components
    infrastructure: Manifest | None  # environment / service instance / component IaC
    pipeline: Manifest | None = None
    compatible_environments: tuple[CompatibleEnvironment, ...] = ()
    component_sources: tuple[str, ...] = ()
    files: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def provisioning(self) -> Provisioning:
        if self.infrastructure is None:
            return Provisioning.CUSTOMER_MANAGED
        return self.infrastructure.provisioning

    @property
    def has_pipeline(self) -> bool:
        return self.pipeline is not None

    def skeleton_files(self) -> dict[str, bytes]:
        """Files under `skeleton/` (pcli's extension for scaffolding source code)."""
        prefix = f"{SKELETON}/"
        return {
            str(PurePosixPath(path).relative_to(SKELETON)): data
            for path, data in self.files.items()
            if path.startswith(prefix)
        }

    def sample_spec(self) -> str | None:
        """The bundle's sample spec (`spec/spec.yaml`, as in AWS's sample layouts), if any."""
        for candidate in ("spec/spec.yaml", "spec/spec.yml", "specs/spec.yaml"):
            data = self.files.get(candidate)
            if data is not None:
                return data.decode("utf-8")
        return None
