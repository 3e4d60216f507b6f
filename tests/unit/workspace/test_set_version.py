"""`set_version`: an upgrade's change of a spec's pinned version, made in the text itself when
the file allows it (comments, quoting and line ends kept) and through the round trip otherwise;
refused, with nothing written, when the spec no longer pins the version the upgrade started from.
"""

from __future__ import annotations

import pytest

from protoncli.errors import InputError
from protoncli.workspace.specfiles import read_spec, set_version

SPEC = """\
# The api service.
blueprint: web-svc   # pinned by the platform team
version: '1.0'   # moved by pcli upgrade
proton: ServiceSpec
instances:
  - name: api-dev
    environment: dev
    spec:
      version: "keep me"   # an input of the same name, not the header
"""


def test_the_version_line_alone_changes(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(SPEC)

    assert set_version(path, "1.1", expected="1.0") is None

    assert path.read_text() == SPEC.replace("version: '1.0'", 'version: "1.1"')
    spec, _ = read_spec(path)
    assert spec.header["version"] == "1.1"


@pytest.mark.parametrize(
    ("written", "after"),
    [
        ("version: 1.0", 'version: "1.1"'),
        ('version: "1.0"', 'version: "1.1"'),
        ("version:   '1.0'", 'version:   "1.1"'),
    ],
)
def test_any_quoting_of_the_old_version_is_replaced(tmp_path, written, after):
    path = tmp_path / "dev.yaml"
    path.write_text(f"blueprint: env\n{written}\nproton: EnvironmentSpec\nspec: {{}}\n")

    assert set_version(path, "1.1", expected="1.0") is None

    assert path.read_text() == f"blueprint: env\n{after}\nproton: EnvironmentSpec\nspec: {{}}\n"


def test_windows_line_ends_are_kept(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_bytes(SPEC.replace("\n", "\r\n").encode())

    set_version(path, "2.0", expected="1.0")

    assert (
        path.read_bytes()
        == SPEC.replace("version: '1.0'", 'version: "2.0"').replace("\n", "\r\n").encode()
    )


def test_a_header_the_text_edit_cannot_reach_goes_through_the_round_trip(tmp_path):
    """A flow mapping has no `version:` line of its own: the round trip edits it instead."""
    path = tmp_path / "dev.yaml"
    path.write_text("{blueprint: env, version: '1.0', proton: EnvironmentSpec, spec: {}}  # x\n")

    assert set_version(path, "1.1", expected="1.0") is None

    spec, _ = read_spec(path)
    assert spec.header["version"] == "1.1"
    assert path.read_text().endswith("# x\n")


def test_a_spec_that_moved_meanwhile_is_not_written(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(SPEC.replace("'1.0'", "'1.3'"))
    before = path.read_text()

    assert set_version(path, "1.1", expected="1.0") == "1.3"

    assert path.read_text() == before


def test_a_broken_spec_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text("version: '1.0'\nblueprint: [unclosed\n")
    before = path.read_text()

    with pytest.raises(InputError):
        set_version(path, "1.1", expected="1.0")

    assert path.read_text() == before
