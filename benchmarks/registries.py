"""Team registries: publish and read of a version through S3 (and git) against the folder registry.

One run starts its own sandbox server (benchmarks/fleet.py's `sandbox_server`: the sandbox's own
code in a process of its own on a free port, PCLI_HOME in a temporary folder) and makes, in a
temporary folder, a folder registry, an S3 registry (a bucket of the sandbox, through pcli's
session layer as `--sandbox` reaches it) and a git registry (a local bare repository,
`git+file://`). Each repetition k (k = 0 is a warm-up, not counted) times, in-process, through
`Registry`'s public methods:

- publish: the next version of a small environment blueprint (its template changes each time),
  to the folder registry and to the team registry, in alternating order;
- read, cold: a new registry object with an empty cache loads that version (S3: the index and
  the archive, the digest checked; git: a fetch and the tag's files), against a new folder
  registry object loading it;
- read, warm: a new registry object whose cache already holds the version (S3: the index only;
  git: a fetch with nothing new), against the same folder read.

A ratio is the median of the k ratios of runs made side by side (the machine is shared, its
speed drifts). Prints one table; exits 0 whatever the figures (benchmarks never fail CI).

`measure(sandbox_url, root, repeat)` returns the rows, for another benchmark to call.

Usage: .venv/bin/python benchmarks/registries.py [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from fleet import sandbox_server  # benchmarks/fleet.py, beside this

BUCKET = "pcli-bench-registry"
NAME = "bench-env"
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "BenchInput"
  types:
    BenchInput:
      type: object
      properties:
        team:
          type: string
          default: "core"
"""
TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: "{{ environment.inputs.team }} %d"
Outputs:
  TopicArn:
    Value: !Ref Topic
"""


@dataclass(frozen=True)
class Row:
    """One measured operation: seconds of the team registry's runs and of the folder's, run
    k of each side by side."""

    label: str
    mine: list[float] = field(default_factory=list)
    folder: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(a / b for a, b in zip(self.mine, self.folder, strict=True))


def write_bundle(root: Path, k: int) -> Path:
    folder = root / f"bundle-{k}"
    for name, text in {
        "schema/schema.yaml": SCHEMA,
        "infrastructure/manifest.yaml": MANIFEST,
        "infrastructure/cloudformation.yaml": TEMPLATE % k,
    }.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def make_bucket(sandbox_url: str) -> None:
    import boto3

    client = boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=sandbox_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the sandbox's dummy credentials
    )
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=BUCKET)


Opener = Callable[[Path], Any]  # a new team registry object on the cache folder given


def team_opener(kind: str, sandbox_url: str, root: Path) -> Opener:
    """A function making a new registry object of `kind` ("S3" or "git") on `cache`."""
    from protoncli.blueprints.location import Access, parse_remote
    from protoncli.blueprints.remote import RemoteRegistry

    if kind == "S3":
        from protoncli.aws.registry_bucket import RegistryBucket

        location = parse_remote(f"s3://{BUCKET}/bench")
        access = Access(endpoint_url=sandbox_url)
        return lambda cache: RemoteRegistry(RegistryBucket.open(location, access), cache)
    from protoncli.blueprints.gitstore import GitStore

    origin = root / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    location = parse_remote(f"git+file://{origin}")
    return lambda cache: RemoteRegistry(GitStore(location, cache / ".repository.git"), cache)


def measure(sandbox_url: str, root: Path, repeat: int) -> list[Row]:
    """Publish, cold read and warm read through S3 and git, each against the folder registry,
    `repeat` times after a warm-up."""
    make_bucket(sandbox_url)
    rows: list[Row] = []
    for kind in ("S3", "git"):
        base = root / kind
        base.mkdir(parents=True)
        rows += measure_kind(kind, team_opener(kind, sandbox_url, base), base, repeat)
    return rows


def measure_kind(kind: str, open_team: Opener, base: Path, repeat: int) -> list[Row]:
    rows = [
        Row(f"publish, {kind}"),
        Row(f"read (empty cache), {kind}"),
        Row(f"read (cached), {kind}"),
    ]
    publisher = open_team(base / "publisher-cache")
    for k in range(repeat + 1):
        pairs = one_run(publisher, open_team, base, k)
        if k == 0:
            continue  # the warm-up
        for row, (mine, folder) in zip(rows, pairs, strict=True):
            row.mine.append(mine)
            row.folder.append(folder)
    return rows


def one_run(publisher: Any, open_team: Opener, base: Path, k: int) -> list[tuple[float, float]]:
    """Run k: (team seconds, folder seconds) of the publish, the cold read and the warm read."""
    from protoncli.blueprints.registry import Registry

    folder_root = base / "folder"
    bundle = write_bundle(base / "bundles", k)
    team_publish = partial(publisher.publish, bundle, name=NAME)
    folder_publish = partial(_publish_to_folder, folder_root, bundle)
    if k % 2:
        published = (timed(team_publish), timed(folder_publish))
    else:
        folder_seconds = timed(folder_publish)
        published = (timed(team_publish), folder_seconds)
    version = Registry(folder_root).versions(NAME)[-1].version
    cache = base / f"reader-{k}"
    read_team = partial(_read, partial(open_team, cache), version)
    read_folder = partial(_read, partial(Registry, folder_root), version)
    cold = (timed(read_team), timed(read_folder))
    warm = (timed(read_team), timed(read_folder))
    shutil.rmtree(cache)
    return [published, cold, warm]


def _publish_to_folder(root: Path, bundle: Path) -> None:
    from protoncli.blueprints.registry import Registry

    Registry(root).publish(bundle, name=NAME)


def _read(open_registry: Callable[[], Any], version: str) -> None:
    """A new registry object loads the version (its files checked against its digest)."""
    registry = open_registry()
    registry.load(registry.get(NAME, version))


def print_report(rows: list[Row], repeat: int) -> None:
    print(
        f"team registries against the folder registry: one version of a small environment "
        f"blueprint, {repeat} runs each after a warm-up, medians; ratio: median of the paired "
        "runs' ratios"
    )
    header = f"{'operation':<28} {'team ms':>9} {'folder ms':>10} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.label:<28} {statistics.median(row.mine) * 1000:>9.1f} "
            f"{statistics.median(row.folder) * 1000:>10.1f} {row.ratio:>6.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs of each operation (20)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pcli-registries-bench-") as scratch:
        root = Path(scratch)
        os.environ["PCLI_HOME"] = str(root / "home")  # never the user's caches
        with sandbox_server(root) as (sandbox_url, _pid):
            rows = measure(sandbox_url, root / "work", args.repeat)
    print_report(rows, args.repeat)


if __name__ == "__main__":
    main()
