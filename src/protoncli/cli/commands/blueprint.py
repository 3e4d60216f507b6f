"""`pcli blueprint ...`: publish, inspect, lint and render blueprints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.commands.blueprint_guardrails import guardrails
from protoncli.cli.completion import (
    complete_blueprint_names,
    complete_blueprint_refs,
    complete_blueprint_versions,
    complete_bundles,
)
from protoncli.cli.state import app_state
from protoncli.errors import PcliError, RegistryError, UsageError

if TYPE_CHECKING:
    from protoncli.blueprints.model import Bundle
    from protoncli.blueprints.registry import Registry, VersionInfo

app = typer.Typer(
    help="Publish, inspect, lint and render blueprints (Proton template bundles).",
    no_args_is_help=True,
    epilog="Examples:\n\n  pcli blueprint list\n\n  pcli blueprint show vpc-ecs-env",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of text.")
# Help text is rich markup: the backslash keeps "[@VERSION]" from being read as a style tag.
BUNDLE_HELP = "A bundle directory, a .tar.gz bundle, or NAME\\[@VERSION] from the registry."


def registry_of(ctx: typer.Context, *, seeded: bool = True) -> Registry:
    """The registry of the settings; with `seeded`, the starter blueprints are added to it
    first (what every command that reads it wants; publish and sync only add to it)."""
    return app_state(ctx).open_registry(seeded=seeded)


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or ref.startswith(".") or ref.endswith((".tar.gz", ".tgz", ".tar"))


def bundle_opener(ctx: typer.Context, ref: str) -> Callable[[], tuple[Bundle, VersionInfo | None]]:
    """Find BUNDLE (a path, or NAME[@VERSION] in the registry) now; load its files when called.

    A path that does not exist or an unknown blueprint is a usage error raised here; a bundle
    that exists but does not load fails when the opener is called.
    """
    from protoncli.blueprints.bundle import load_bundle

    path = Path(ref).expanduser()
    if path.exists():
        return lambda: (load_bundle(path), None)
    if _looks_like_path(ref):
        raise UsageError(
            f"{ref}: no such bundle folder or archive",
            hint="give a bundle folder, a .tar.gz archive of one, or NAME[@VERSION]",
        )
    registry = registry_of(ctx)
    info = registry.resolve(ref)
    return lambda: (registry.load(info), info)


def open_bundle(ctx: typer.Context, ref: str) -> tuple[Bundle, VersionInfo | None]:
    """Load BUNDLE given as a path, or as NAME[@VERSION] from the registry."""
    return bundle_opener(ctx, ref)()


def _version_record(info: VersionInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "version": info.version,
        "kind": str(info.kind),
        "status": str(info.status),
        "recommended": info.recommended,
        "digest": info.digest,
        "created_at": info.created_at,
        "published_at": info.published_at,
        "provisioning": info.provisioning,
        "compatible_environments": [str(env) for env in info.compatible_environments],
    }


@app.command("list")
def list_blueprints(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List the blueprints in the registry with their recommended version.

    Example:

      pcli blueprint list --json
    """
    registry = registry_of(ctx)
    problems: list[str] = []
    blueprints = registry.blueprints(problems)
    _list_blueprints(ctx, json_, registry, blueprints, problems)
    if problems:
        raise PcliError(
            f"{len(problems)} blueprint(s) of the registry could not be read; the list leaves "
            "them out",
            hint="fix or remove the version folders named above (pcli never edits them)",
        )


def _list_blueprints(
    ctx: typer.Context, json_: bool, registry: Any, blueprints: list[Any], problems: list[str]
) -> None:
    if output.wants_json(ctx, json_):
        output.print_json(
            {
                "problems": problems,
                "registry": registry.location,
                "blueprints": [
                    {
                        "name": bp.name,
                        "kind": str(bp.kind),
                        "recommended": bp.recommended,
                        "latest": bp.latest,
                        "versions": bp.version_count,
                        "description": bp.description,
                    }
                    for bp in blueprints
                ],
            }
        )
        return
    output.warn_all(f"could not read {problem}" for problem in problems)
    if not blueprints:
        if not problems:
            output.note(
                f"No blueprints in {registry.location}. Publish one: pcli blueprint publish DIR"
            )
        return
    columns = ["NAME", "KIND", "RECOMMENDED", "LATEST", "VERSIONS"]
    rows: list[tuple[Any, ...]] = [
        (bp.name, bp.kind, bp.recommended or "-", bp.latest, bp.version_count) for bp in blueprints
    ]
    if any(bp.description for bp in blueprints):
        columns.append("DESCRIPTION")
        rows = [(*row, bp.description or "") for row, bp in zip(rows, blueprints, strict=True)]
    output.table(columns, rows)


@app.command()
def versions(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., autocompletion=complete_blueprint_names, help="Blueprint name."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """List every version of a blueprint, its status and digest.

    Example:

      pcli blueprint versions vpc-ecs-env
    """
    registry = registry_of(ctx)
    infos = registry.versions(name)
    if output.wants_json(ctx, json_):
        output.print_json({"name": name, "versions": [_version_record(i) for i in infos]})
        return
    output.table(
        ["VERSION", "STATUS", "RECOMMENDED", "DIGEST", "CREATED"],
        [
            (
                i.version,
                i.status,
                "yes" if i.recommended else "",
                i.digest.removeprefix("sha256:")[:12],
                i.created_at,
            )
            for i in infos
        ],
    )


@app.command()
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(
        ...,
        metavar="NAME[@VERSION]",
        autocompletion=complete_blueprint_refs,
        help="Blueprint, optionally a version.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Show a blueprint version: its inputs (from the schema) and compatible environments.

    Without @VERSION, the recommended version.

    Examples:

      pcli blueprint show fargate-web-svc

      pcli blueprint show vpc-ecs-env@1.0
    """
    from protoncli.cli.commands.blueprint_view import describe_version

    registry = registry_of(ctx)
    info = registry.resolve(ref)
    bundle = registry.load(info)
    record = _version_record(info) | describe_version(bundle)
    if output.wants_json(ctx, json_):
        output.print_json(record)
        return
    from protoncli.cli.commands.blueprint_view import print_version

    print_version(record)


@app.command()
def publish(
    ctx: typer.Context,
    bundle: Path = typer.Argument(..., help="A bundle directory or .tar.gz bundle."),
    name: str | None = typer.Option(
        None,
        "--name",
        "-n",
        autocompletion=complete_blueprint_names,
        help="Blueprint name (default: the bundle's folder name).",
    ),
    major: bool = typer.Option(False, "--major", help="Register a new major version."),
    draft: bool = typer.Option(False, "--draft", help="Register as DRAFT (promote it later)."),
    description: str | None = typer.Option(None, "--description", help="Version description."),
    json_: bool = JSON_OPTION,
) -> None:
    """Register a bundle as the next minor version of a blueprint (or a new major).

    A minor version must keep the schema backward compatible; otherwise use --major.
    Publishing content identical to an existing version returns that version.

    Examples:

      pcli blueprint publish ./my-env/v1 --name my-env

      pcli blueprint publish env.tar.gz --major --draft
    """
    registry = registry_of(ctx, seeded=False)
    result = registry.publish(bundle, name=name, major=major, draft=draft, description=description)
    info = result.version
    asked = [flag for flag, given in (("--major", major), ("--draft", draft)) if given]
    if not result.created and asked:
        output.warn(
            f"{' and '.join(asked)} not applied: nothing was published, the content is already "
            f"{info.name}@{info.version} ({info.status}); change the bundle to publish a new "
            "version"
        )
    if output.wants_json(ctx, json_):
        output.print_json({"created": result.created} | _version_record(info))
        return
    if result.created:
        output.line(f"Published {info.name}@{info.version} ({info.status}, {info.digest[:19]}).")
    else:
        output.line(f"Unchanged: identical content is already {info.name}@{info.version}.")


@app.command()
def promote(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., autocompletion=complete_blueprint_names, help="Blueprint name."
    ),
    version: str = typer.Argument(
        ..., autocompletion=complete_blueprint_versions, help="Version to publish, e.g. 1.2."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Publish a DRAFT version, so it can become the recommended one.

    Example:

      pcli blueprint promote vpc-ecs-env 1.1
    """
    registry = registry_of(ctx)
    info = registry.promote(name, version)
    if output.wants_json(ctx, json_):
        output.print_json(_version_record(info))
        return
    suffix = " It is now the recommended version." if info.recommended else ""
    output.line(f"{info.name}@{info.version} is PUBLISHED.{suffix}")


@app.command()
def sync(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="A folder in template-sync layout: NAME/vN/."),
    json_: bool = JSON_OPTION,
) -> None:
    """Register template-sync layouts: a changed NAME/vN/ becomes a new DRAFT minor of major N.

    A new vN folder becomes major N. Unchanged bundles are left alone.

    Example:

      pcli blueprint sync ./templates
    """
    from protoncli.blueprints.sync import sync_directory

    report = sync_directory(registry_of(ctx, seeded=False), directory)
    rows = [
        {
            "name": entry.name,
            "folder": entry.major_folder,
            "path": str(entry.path),
            "action": str(entry.action),
            "version": entry.version,
            "reason": entry.reason,
            "details": list(entry.details),
        }
        for entry in report.entries
    ]
    if output.wants_json(ctx, json_):
        output.print_json({"root": str(report.root), "ok": report.ok, "entries": rows})
    else:
        output.table(
            ["NAME", "FOLDER", "ACTION", "VERSION", "REASON"],
            [
                (r["name"], r["folder"], r["action"], r["version"] or "-", r["reason"] or "")
                for r in rows
            ],
        )
        for entry in report.entries:
            for detail in entry.details:
                output.note(f"  {entry.name}/{entry.major_folder}: {detail}")
    if not report.ok:
        raise RegistryError(
            f"{directory}: {len(report.failed)} of {len(report.entries)} template folder(s)"
            " failed to sync",
            hint="fix the folders listed as failed, then run the sync again",
        )


@app.command()
def render(
    ctx: typer.Context,
    bundle: str = typer.Argument(
        ..., metavar="BUNDLE", autocompletion=complete_bundles, help=BUNDLE_HELP
    ),
    spec: Path | None = typer.Option(
        None, "--spec", "-s", help="Proton spec file (EnvironmentSpec or ServiceSpec)."
    ),
    output_dir: Path = typer.Option(
        ..., "--output-dir", "-o", help="Where to write the rendered files."
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        "-n",
        help="Environment, service or component name (default: the spec file's stem).",
    ),
    context: Path | None = typer.Option(
        None,
        "--context",
        "-c",
        help="YAML/JSON file with account ids, outputs of deployed resources and repository facts.",
    ),
    previous_spec: Path | None = typer.Option(
        None, "--previous-spec", help="Spec of the last deployment, for ${Proton::CURRENT_VAL}."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Render a bundle with a spec into CloudFormation, Terraform or CodeBuild inputs, offline.

    Output folders follow Proton's: ENV/, ENV/SERVICE-INSTANCE/, SERVICE/pipeline/, ENV/COMPONENT/.

    Examples:

      pcli blueprint render vpc-ecs-env --spec dev.yaml -o out --name dev

      pcli blueprint render ./svc/v1 --spec svc.yaml -o out -n api --context ctx.yaml
    """
    from protoncli.cli.commands.blueprint_view import render_command

    loaded, info = open_bundle(ctx, bundle)
    render_command(
        loaded,
        info,
        spec=spec,
        output_dir=output_dir,
        name=name,
        context=context,
        previous_spec=previous_spec,
        as_json=output.wants_json(ctx, json_),
    )


@app.command()
def lint(
    ctx: typer.Context,
    bundle: str = typer.Argument(
        ..., metavar="BUNDLE", autocompletion=complete_bundles, help=BUNDLE_HELP
    ),
    spec: Path | None = typer.Option(
        None, "--spec", "-s", help="Spec to render with (default: the bundle's sample spec)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Check a bundle: structure, schema, a test render, cfn-lint, guardrails, terraform fmt.

    Renders with the sample spec (spec/spec.yaml) or the schema's defaults and placeholder
    inputs, with placeholder outputs, then runs cfn-lint and the guardrails (the bundle's
    guardrails/ and the registry's .guardrails/) on every CloudFormation file. Errors fail
    (exit 1); warnings are shown.

    Examples:

      pcli blueprint lint ./my-env/v1

      pcli blueprint lint fargate-web-svc@1.0 --json
    """
    from protoncli.cli.commands.blueprint_view import lint_command

    lint_command(
        bundle_opener(ctx, bundle),
        bundle,
        spec=spec,
        as_json=output.wants_json(ctx, json_),
        registry_rules=lambda: registry_of(ctx, seeded=False).guardrails(),
    )


app.command("guardrails")(guardrails)  # the registry's rules: its own module
