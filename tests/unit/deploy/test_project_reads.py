"""What one run reads once: a spec file or component record read again only when it changed,
and deployment records written beside the deployments (`written_alongside`) all written by the
time the block ends."""

from __future__ import annotations

import os
import threading

import pytest

from protoncli.aws.session import SessionFactory
from protoncli.blueprints.registry import Registry
from protoncli.deploy.project import Project
from protoncli.deploy.records import written_alongside
from protoncli.errors import InputError
from protoncli.state.declared import read_environment
from protoncli.workspace.model import init_workspace

SPEC = """\
blueprint: team-env
version: "1.0"
region: {region}
proton: EnvironmentSpec
spec: {{}}
"""


@pytest.fixture
def project(tmp_path):
    workspace = init_workspace(tmp_path / "ws", name="demo", region="us-east-1", registry=None)
    return Project(workspace, Registry(tmp_path / "reg"), SessionFactory())


def test_a_file_is_parsed_once_while_it_does_not_change(project):
    path = project.workspace.root / "notes.txt"
    path.write_text("one")
    loads = []

    def load(where):
        loads.append(where)
        return where.read_text()

    assert project.read_once(path, load) == "one"
    assert project.read_once(path, load) == "one"
    assert len(loads) == 1

    path.write_text("two, longer")  # another size: read again
    assert project.read_once(path, load) == "two, longer"
    stat = path.stat()
    path.write_text("two, LONGER")  # the same size: its modification time tells
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert project.read_once(path, load) == "two, LONGER"
    assert len(loads) == 3


def test_an_environment_spec_edited_during_a_run_is_read_anew(project):
    path = project.workspace.environment_spec("dev")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SPEC.format(region="us-east-1"))
    assert read_environment(project, "dev").region == "us-east-1"

    path.write_text(SPEC.format(region="eu-west-1"))

    assert read_environment(project, "dev").region == "eu-west-1"


def test_a_file_that_failed_to_load_is_read_again(project):
    path = project.workspace.root / "broken.txt"
    path.write_text("x")
    attempts = []

    def load(where):
        attempts.append(where)
        raise InputError("unreadable")

    for _ in range(2):
        with pytest.raises(InputError):
            project.read_once(path, load)
    assert len(attempts) == 2


def test_records_written_alongside_are_all_written_when_the_block_ends(project):
    release = threading.Event()
    written = []

    def slow_record():
        release.wait(5)
        written.append("record")

    with written_alongside(project):
        assert project.record_writer is not None
        project.record_writer(slow_record)
        assert written == []  # the deployment's thread went on
        release.set()
    assert written == ["record"]
    assert project.record_writer is None  # outside, records are written at once again


def test_an_unexpected_error_of_a_record_writer_is_not_swallowed(project):
    def broken():
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"), written_alongside(project):
        project.record_writer(broken)
