"""Spec files as Proton writes them, plus pcli's header keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENVIRONMENT_SPEC = "EnvironmentSpec"
SERVICE_SPEC = "ServiceSpec"
CURRENT_VAL = "${Proton::CURRENT_VAL}"
# pcli's header keys, in the order they are written; `account` names an environment's account
# (pcli.yaml's `accounts:`), `managed_elsewhere` where an imported environment's outputs come
# from (deploy/imported.py), `provisioning_repository` the repository its Terraform items'
# pull requests go to (`URL` or `URL#BRANCH`, provision/settings.py); the last three are a
# service's source repository (specs.repository).
HEADER_KEYS = (
    "blueprint",
    "version",
    "region",
    "account",
    "managed_elsewhere",
    "provisioning_repository",
    "repository_id",
    "branch_name",
    "repository_connection_arn",
)


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    environment: str
    inputs: Mapping[str, Any]
    line: int = 0  # line of the instance in its file, 0 when unknown
    key_lines: Mapping[str, int] = field(default_factory=dict)  # input name -> line


@dataclass(frozen=True)
class EnvironmentSpec:
    inputs: Mapping[str, Any]
    source: str = "<spec>"
    header: Mapping[str, Any] = field(default_factory=dict)  # blueprint, version, region, account
    key_lines: Mapping[str, int] = field(default_factory=dict)  # input name -> line


@dataclass(frozen=True)
class ServiceSpec:
    instances: tuple[InstanceSpec, ...]
    pipeline: Mapping[str, Any] | None = None
    source: str = "<spec>"
    header: Mapping[str, Any] = field(default_factory=dict)
    pipeline_key_lines: Mapping[str, int] = field(default_factory=dict)  # input name -> line

    def instance(self, name: str) -> InstanceSpec | None:
        return next((item for item in self.instances if item.name == name), None)


Spec = EnvironmentSpec | ServiceSpec
