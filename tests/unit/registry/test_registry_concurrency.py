"""Two processes publishing to the same blueprint at once never lose or duplicate a version."""

from __future__ import annotations

import json
import subprocess
import sys

from protoncli.blueprints.bundle import bundle_digest, load_bundle

PUBLISHER = """\
import json
import sys
import time
from pathlib import Path

from protoncli.blueprints.registry import Registry

registry = Registry(Path(sys.argv[1]))
start = Path(sys.argv[2])
deadline = time.monotonic() + 60
while not start.exists() and time.monotonic() < deadline:
    time.sleep(0.002)
created = []
for folder in sys.argv[3:]:
    result = registry.publish(Path(folder), name="shared")
    created.append([result.version.version, result.version.digest, result.created])
print(json.dumps(created))
"""

PER_PROCESS = 20


def test_two_processes_publishing_at_once_get_distinct_consecutive_versions(
    tmp_path, registry, bundles
):
    script = tmp_path / "publisher.py"
    script.write_text(PUBLISHER)
    start = tmp_path / "start"
    sources = {
        writer: [
            bundles.environment(f"{writer}{n}/network", description=f"{writer} change {n}")
            for n in range(PER_PROCESS)
        ]
        for writer in ("a", "b")
    }
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(registry.root), str(start), *map(str, folders)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folders in sources.values()
    ]
    start.touch()
    outputs = [process.communicate(timeout=120) for process in processes]

    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    created = [entry for stdout, _ in outputs for entry in json.loads(stdout)]
    versions = [version for version, _, _ in created]
    expected = [f"1.{minor}" for minor in range(2 * PER_PROCESS)]
    assert sorted(versions, key=lambda v: int(v.split(".")[1])) == expected
    assert all(was_created for _, _, was_created in created)
    listed = registry.versions("shared")
    assert [info.version for info in listed] == expected
    every_source = [folder for folders in sources.values() for folder in folders]
    source_digests = {bundle_digest(load_bundle(folder)) for folder in every_source}
    assert {info.digest for info in listed} == source_digests
    assert sorted(p.name for p in (registry.root / "shared").iterdir()) == sorted(
        [".lock", *expected]
    )
