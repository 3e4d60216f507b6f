"""Several real `pcli` processes at once on one workspace or one user config file.

Each process runs pcli's own entry point; a start file released once every process has imported
pcli makes them race for real (python's start-up would otherwise spread them out).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

RUNNER = """\
import sys
import time
from pathlib import Path

import protoncli.cli.app  # noqa: F401 - imported before the start, not during the race
from protoncli.__main__ import main

start = Path(sys.argv[1])
deadline = time.monotonic() + 60
while not start.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
sys.exit(main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class Finished:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def race(tmp_path):
    """`race([args...], ...)` runs one pcli process per argument list, all released at once."""
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)

    def run(commands: list[list[str]], *, extra_env: dict[str, str] | None = None):
        start = tmp_path / f"start-{time.monotonic_ns()}"
        env = {**os.environ, **(extra_env or {})}
        processes = [
            subprocess.Popen(
                [sys.executable, str(runner), str(start), *command],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for command in commands
        ]
        time.sleep(1.5)  # every process has imported pcli and waits for the start file
        start.touch()
        finished = []
        for command, process in zip(commands, processes, strict=True):
            stdout, stderr = process.communicate(timeout=120)
            finished.append(Finished(tuple(command), process.returncode, stdout, stderr))
        return finished

    return run


@pytest.fixture
def workspace(tmp_path, registry, pcli):
    """A workspace named demo, its registry seeded (so the race is not about seeding)."""
    root = tmp_path / "ws"
    assert pcli("init", str(root), "--name", "demo").exit_code == 0
    assert pcli("blueprint", "list").exit_code == 0
    return root


def in_workspace(workspace: Path, registry: Path, command: str, *args: str) -> list[str]:
    """`pcli --registry R --workspace W COMMAND... ARGS...` (COMMAND split on spaces)."""
    return ["--registry", str(registry), "--workspace", str(workspace), *command.split(), *args]


def winners(finished: list[Finished]) -> list[Finished]:
    for run in finished:
        assert run.code in (0, 2), (run.args, run.code, run.stderr)
    return [run for run in finished if run.code == 0]


RETENTIONS = ("1", "3", "5", "7", "14", "30")


def test_concurrent_env_creates_of_one_name_one_wins_and_nothing_is_overwritten(
    race, workspace, registry
):
    commands = [
        in_workspace(
            workspace,
            registry,
            "env create dev -b vpc-ecs-env --no-deploy",
            "-p",
            f"log_retention_days={days}",
        )
        for days in RETENTIONS
    ]

    finished = race(commands)

    (winner,) = winners(finished)
    spec = workspace / "environments" / "dev.yaml"
    assert f"Wrote {spec}" in winner.stderr
    days = next(arg.split("=")[1] for arg in winner.args if arg.startswith("log_retention"))
    assert yaml.safe_load(spec.read_text())["spec"] == {"log_retention_days": int(days)}
    for loser in finished:
        if loser is not winner:
            first = loser.stderr.splitlines()[0]
            assert first == f"Error: environment 'dev' already exists: {spec}", loser.stderr
            assert "Wrote" not in loser.stderr
    assert sorted(p.name for p in spec.parent.iterdir()) == ["dev.yaml"]  # no temporary left


def test_concurrent_svc_creates_of_one_name_one_wins(race, workspace, registry, pcli):
    created = pcli(*in_workspace(workspace, registry, "env create dev -b vpc-ecs-env --no-deploy"))
    assert created.exit_code == 0, created.output
    ports = ("8001", "8002", "8003", "8004", "8005", "8006")
    commands = [
        in_workspace(
            workspace,
            registry,
            "svc create web -b fargate-web-svc -i web-dev=dev --no-deploy",
            "-p",
            f"port={port}",
        )
        for port in ports
    ]

    finished = race(commands)

    (winner,) = winners(finished)
    spec = workspace / "services" / "web.yaml"
    port = next(arg.split("=")[1] for arg in winner.args if arg.startswith("port="))
    assert yaml.safe_load(spec.read_text())["instances"][0]["spec"]["port"] == int(port)
    for loser in finished:
        if loser is not winner:
            assert "already exists" in loser.stderr.splitlines()[0], loser.stderr


def test_concurrent_component_creates_of_one_name_one_wins(
    race, workspace, registry, pcli, starters_dir
):
    for command in (
        "env create dev -b vpc-ecs-env --no-deploy",
        "svc create web -b fargate-web-svc -i web-dev=dev --no-deploy",
    ):
        result = pcli(*in_workspace(workspace, registry, command))
        assert result.exit_code == 0, result.output
    bundle = starters_dir / "sqs-queue-component" / "v1"
    commands = [
        in_workspace(
            workspace,
            registry,
            "component create queue --service web --instance web-dev --no-deploy",
            "--bundle",
            str(bundle),
        )
        for _ in range(6)
    ]

    finished = race(commands)

    winners(finished)  # every process ends with 0 or 2, never a traceback
    assert len(winners(finished)) == 1, [run.stderr for run in finished]
    components = workspace / "components"
    assert sorted(p.name for p in components.iterdir()) == ["queue"]  # no staging folder left
    for loser in finished:
        if loser.code != 0:
            assert "component 'queue' already exists" in loser.stderr, loser.stderr


CONFIG_VALUES = {
    "region": "eu-west-1",
    "profile": "team",
    "registry": "/srv/blueprints",
    "output": "text",
    "color": "never",
    "quiet": "false",
    "debug": "false",
    "no_input": "true",
}


def test_concurrent_config_sets_keep_every_key(race, isolated_env):
    commands = [["config", "set", key, value] for key, value in CONFIG_VALUES.items()]

    finished = race(commands)

    for run in finished:
        assert run.code == 0, (run.args, run.stderr)
    config = isolated_env / "config" / "config.yaml"
    written = yaml.safe_load(config.read_text())
    expected = {key: yaml.safe_load(value) for key, value in CONFIG_VALUES.items()}
    assert written == expected
    assert config.read_text().startswith("# pcli user settings")  # the header kept, once
    assert config.read_text().count("# pcli user settings") == 1


def test_env_delete_and_svc_create_into_it_never_both_succeed(
    race, workspace, registry, pcli, moto_url
):
    env = {"AWS_ENDPOINT_URL": moto_url}
    outcomes = []
    for attempt in range(4):
        created = pcli(
            *in_workspace(workspace, registry, "env create dev -b vpc-ecs-env --no-deploy")
        )
        assert created.exit_code == 0, created.output
        service = f"web{attempt}"
        delete, create = race(
            [
                in_workspace(workspace, registry, "env delete dev --yes"),
                in_workspace(
                    workspace,
                    registry,
                    f"svc create {service} -b fargate-web-svc -i {service}-dev=dev --no-deploy",
                ),
            ],
            extra_env=env,
        )
        assert delete.code in (0, 1, 2), delete.stderr
        assert create.code in (0, 1, 2), create.stderr
        both = delete.code == 0 and create.code == 0
        assert not both, (
            f"env delete and svc create both succeeded:\n{delete.stderr}\n{create.stderr}"
        )
        env_spec = workspace / "environments" / "dev.yaml"
        service_spec = workspace / "services" / f"{service}.yaml"
        assert env_spec.exists() or not service_spec.exists()  # never an orphaned instance
        outcomes.append("svc" if create.code == 0 else "env delete")
        if create.code == 0:  # the delete was refused: clear the way for the next attempt
            service_spec.unlink()
        else:
            assert "no environment" in create.stderr or "being deleted" in create.stderr, (
                create.stderr
            )
            assert delete.code == 0, delete.stderr
        if env_spec.exists():
            env_spec.unlink()
