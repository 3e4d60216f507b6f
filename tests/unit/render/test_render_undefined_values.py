"""An undefined value handed to Python code (`tojson`, `range`, `str.join`) is reported by its
path, as any undefined reference is, not as a TypeError about pcli's undefined class."""

from __future__ import annotations

import pytest

from protoncli.errors import RenderError
from protoncli.render.jinja_env import render_text
from protoncli.render.namespaces import Namespace

NAMESPACE = Namespace({"environment": {"name": "prod", "outputs": {"Runtime": "python3.12"}}})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "{{ {'python3.13': 1}[environment.outputs.Runtime] | tojson }}",
            "t.yaml:1: 'dict object' has no attribute 'python3.12'",
        ),
        (
            "{{ environment.outputs.Missing | tojson }}",
            "t.yaml:1: 'environment.outputs.Missing' is undefined",
        ),
        (
            "{{ range(environment.outputs.Count) }}",
            "t.yaml:1: 'environment.outputs.Count' is undefined",
        ),
        ("{{ '-'.join([environment.nope]) }}", "t.yaml:1: 'environment.nope' is undefined"),
    ],
)
def test_an_undefined_value_in_python_code_is_named(source, message):
    with pytest.raises(RenderError) as caught:
        render_text(source, "t.yaml", NAMESPACE)
    assert caught.value.message == message
    assert "PcliUndefined" not in caught.value.message


def test_other_type_errors_are_reported_as_they_are():
    with pytest.raises(RenderError) as caught:
        render_text("{{ '-'.join([1]) }}", "t.yaml", NAMESPACE)
    assert caught.value.message == (
        "t.yaml:1: template error: sequence item 0: expected str instance, int found"
    )
