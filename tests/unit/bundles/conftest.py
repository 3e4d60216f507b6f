"""Small real bundles and tarballs written into tmp_path, for the bundle-loading tests."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ENV_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "NetworkInput"
  types:
    NetworkInput:
      type: object
      description: "Network settings"
      properties:
        vpc_cidr:
          type: string
          default: "10.0.0.0/16"
"""

SERVICE_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "WebInput"
  pipeline_input_type: "PipelineInput"
  types:
    WebInput:
      type: object
      properties:
        port:
          type: number
          default: 80
    PipelineInput:
      type: object
      properties:
        unit_test_command:
          type: string
          default: "make test"
"""

SERVICE_SCHEMA_NO_PIPELINE = """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "WebInput"
  types:
    WebInput:
      type: object
      properties:
        port:
          type: number
          default: 80
"""

CFN_MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""

TF_STAR_MANIFEST = """\
infrastructure:
  templates:
    - file: "*"
      rendering_engine: hcl
      template_language: terraform
"""

ENV_CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: "{{ environment.inputs.vpc_cidr }}"
"""

INSTANCE_CFN = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: "{{ service_instance.inputs.port }}"
"""

PIPELINE_CFN = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""

COMPONENT_CFN = """\
Resources:
  Bucket:
    Type: AWS::S3::Bucket
"""


@pytest.fixture
def env_files() -> dict[str, str | bytes]:
    """A CloudFormation environment bundle with the extra files real repositories carry."""
    return {
        "schema/schema.yaml": ENV_SCHEMA,
        "infrastructure/manifest.yaml": CFN_MANIFEST,
        "infrastructure/cloudformation.yaml": ENV_CFN,
        "README.md": "# network\n",
        "spec/spec.yaml": "proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.1.0.0/16\n",
    }


@pytest.fixture
def service_files() -> dict[str, str | bytes]:
    """A CloudFormation service bundle with a pipeline."""
    return {
        "schema/schema.yaml": SERVICE_SCHEMA,
        "instance_infrastructure/manifest.yaml": CFN_MANIFEST,
        "instance_infrastructure/cloudformation.yaml": INSTANCE_CFN,
        "pipeline_infrastructure/manifest.yaml": CFN_MANIFEST,
        "pipeline_infrastructure/cloudformation.yaml": PIPELINE_CFN,
        ".template-registration.yaml": (
            "compatible_environments:\n  - network:1\n  - network:2\n"
            "supported_component_sources:\n  - DIRECTLY_DEFINED\n"
        ),
    }


@pytest.fixture
def component_files() -> dict[str, str | bytes]:
    return {"manifest.yaml": CFN_MANIFEST, "cloudformation.yaml": COMPONENT_CFN}


def _write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def write_tree() -> Callable[[Path, Mapping[str, str | bytes]], Path]:
    """Write `{relative path: text or bytes}` under a folder and return the folder."""
    return _write_tree


def _member(
    name: str,
    data: bytes | None = None,
    *,
    kind: bytes = tarfile.REGTYPE,
    linkname: str = "",
    mtime: int = 1_700_000_000,
) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mtime = mtime
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.size = len(data) if data is not None else 0
    return info, data


@pytest.fixture
def member() -> Callable[..., tuple[tarfile.TarInfo, bytes | None]]:
    """One tar member: `member(name, data, kind=tarfile.SYMTYPE, linkname=...)`."""
    return _member


def _make_tarball(
    archive: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz"
) -> Path:
    with tarfile.open(archive, mode) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return archive


@pytest.fixture
def make_tarball() -> Callable[..., Path]:
    """Write a tarball from `[(TarInfo, bytes or None)]`, exactly as given (no checks)."""
    return _make_tarball


@pytest.fixture
def tarball_of() -> Callable[..., Path]:
    """Write a .tar.gz of `{relative path: text or bytes}`, members in the given order."""

    def build(
        archive: Path,
        files: Mapping[str, str | bytes],
        *,
        prefix: str = "",
        mtime: int = 1_700_000_000,
        mode: str = "w:gz",
    ) -> Path:
        members: list[tuple[tarfile.TarInfo, bytes | None]] = []
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            members.append(_member(f"{prefix}{name}", data, mtime=mtime))
        return _make_tarball(archive, members, mode)

    return build


def _listing(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.fixture
def listing() -> Callable[[Path], list[str]]:
    """Every path under a folder, relative and sorted: compare before and after an operation."""
    return _listing
