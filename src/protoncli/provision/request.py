"""What a deployment of an item that CloudFormation does not deploy carries: its rendered folder
and how it is provisioned (`StackRequest.provisioned`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import yaml

from protoncli.blueprints.model import Provisioning
from protoncli.errors import PcliError, UsageError
from protoncli.provision.state import CODEBUILD, LOCAL, PULL_REQUEST, TERRAFORM
from protoncli.render.jsonstyle import proton_json
from protoncli.render.model import RenderedResource
from protoncli.render.terraform import METADATA_FILE

METHODS = (LOCAL, PULL_REQUEST)
MANIFEST = "manifest.yaml"


@dataclass(frozen=True)
class Provisioned:
    """The rendered folder of a Terraform or CodeBuild item, and how it is provisioned."""

    engine: str  # terraform | codebuild
    method: str  # local | pull-request (codebuild: local)
    folder: str  # the resource's folder, as `pcli blueprint render` writes it
    identifier: str  # pcli's ARN-shaped identifier of the resource
    files: Mapping[str, str]
    binary_files: Mapping[str, bytes] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {
            "format": 1,
            "engine": self.engine,
            "method": self.method,
            "folder": self.folder,
            "identifier": self.identifier,
            "files": dict(self.files),
            "binary_files": {
                name: base64.b64encode(data).decode("ascii")
                for name, data in self.binary_files.items()
            },
        }

    @classmethod
    def from_document(cls, key: str, document: Any) -> Provisioned:
        try:
            return cls(
                engine=str(document["engine"]),
                method=str(document["method"]),
                folder=str(document["folder"]),
                identifier=str(document["identifier"]),
                files={str(k): str(v) for k, v in document["files"].items()},
                binary_files={
                    str(k): base64.b64decode(v) for k, v in document["binary_files"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise PcliError(f"{key} cannot be read: {error}") from None

    @cached_property
    def settings(self) -> Mapping[str, Any]:
        """A CodeBuild manifest's `settings` (provision, deprovision, runtimes), rendered;
        parsed once."""
        document = yaml.safe_load(self.files.get(MANIFEST, "") or "{}") or {}
        try:
            settings = document["infrastructure"]["templates"][0]["settings"]
        except (KeyError, IndexError, TypeError):
            return {}
        return settings if isinstance(settings, dict) else {}

    def commands(self, deleting: bool) -> list[str]:
        raw = self.settings.get("deprovision" if deleting else "provision") or []
        return [str(command) for command in raw]

    def for_deployment(self, deployment_id: str, *, deleting: bool = False) -> Provisioned:
        """The files with Proton's deployment metadata naming `deployment_id` (and, for a
        deletion, `isResourceDeleted: true`)."""
        text = self.files.get(METADATA_FILE)
        if text is None:
            return self
        metadata = json.loads(text)
        metadata["deploymentId"] = deployment_id
        metadata["isResourceDeleted"] = deleting
        return replace(self, files={**self.files, METADATA_FILE: proton_json(metadata)})


def provisioned_of(resource: RenderedResource, method: str) -> Provisioned:
    engine = TERRAFORM if resource.provisioning == Provisioning.TERRAFORM else CODEBUILD
    if engine == CODEBUILD:
        method = LOCAL
    return Provisioned(
        engine=engine,
        method=method,
        folder=resource.folder,
        identifier=resource.identifier,
        files=dict(resource.files),
        binary_files=dict(resource.binary_files),
    )


def files_text(resource: RenderedResource) -> str:
    """What a deployment of the folder is made of, as one text (the deployment's "template"
    in its record and digest): every file but the deployment metadata, which names the
    deployment itself."""
    parts = [
        f"# {name}\n{text}"
        for name, text in sorted(resource.files.items())
        if name != METADATA_FILE
    ]
    parts += [
        f"# {name} ({len(data)} bytes)" for name, data in sorted(resource.binary_files.items())
    ]
    return "\n".join(parts)


def check_method(method: str, source: str) -> str:
    if method not in METHODS:
        raise UsageError(
            f"{source}: provisioning must be one of {', '.join(METHODS)}, not {method!r}",
            hint="local: pcli runs Terraform itself; pull-request: pcli commits the rendered "
            "files to the provisioning repository and your automation applies them",
        )
    return method
