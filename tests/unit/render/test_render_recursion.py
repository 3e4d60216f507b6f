"""What Python's recursion limit stops is an error of the template or the file, never an
internal error: a macro that calls itself, rendered output nested beyond what a parser reads."""

from __future__ import annotations

import pytest

from protoncli.errors import RenderError
from protoncli.render.jinja_env import render_text
from protoncli.render.namespaces import Namespace
from protoncli.yamlio import parse_yaml


def test_a_macro_that_calls_itself_is_a_render_error_naming_the_file():
    source = "{% macro loop(n) %}{{ loop(n) }}{% endmacro %}Value: {{ loop(1) }}\n"

    with pytest.raises(RenderError) as raised:
        render_text(source, "infrastructure/cloudformation.yaml", Namespace({}))

    assert raised.value.message.startswith(
        "infrastructure/cloudformation.yaml: the template calls itself without end"
    )
    assert "macro that calls itself" in (raised.value.hint or "")


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000,  # flow style
        "".join("  " * k + f"k{k}:\n" for k in range(3000)),  # block style
    ],
    ids=["flow", "block"],
)
@pytest.mark.parametrize("flavour", [{}, {"marked": True}, {"cloudformation": True}])
def test_yaml_nested_beyond_the_parsers_reach_is_a_clear_error(text, flavour):
    with pytest.raises(ValueError, match=r"^deep\.yaml: invalid YAML: nested too deeply"):
        parse_yaml(text, "deep.yaml", ValueError, **flavour)


def test_a_template_text_is_prepared_once_however_many_times_it_renders(monkeypatch):
    """The indentation pre-pass and the compilation are done once per text, not per
    instance."""
    from protoncli.render import jinja_env

    seen: list[str] = []
    prepare = jinja_env.add_indent_filters

    def counted(source: str) -> str:
        seen.append(source)
        return prepare(source)

    monkeypatch.setattr(jinja_env, "add_indent_filters", counted)
    source = "Name: {{ service_instance.name }}  # prepared once\n"
    for name in ("a", "b", "c"):
        namespace = Namespace({"service_instance": {"name": name}})
        assert render_text(source, "instance.yaml", namespace) == f"Name: {name}  # prepared once"

    assert seen == [source]
