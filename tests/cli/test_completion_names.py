"""Dynamic completion, called as bash, zsh and fish call it: `pcli` run with their variables.

One real workspace (pcli init, env/svc/component create --no-deploy) and a registry (starters
plus a blueprint with two published versions and a draft), built once with the real CLI; each
test runs `.venv/bin/pcli` in a subprocess as a shell's completion script does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PCLI = str(Path(sys.executable).with_name("pcli"))
STARTERS = Path(__file__).resolve().parents[2] / "blueprints"
HEAVY = ("boto3", "botocore", "jinja2", "jsonschema", "questionary", "cfnlint", "moto")
_ZSH_ITEM = re.compile(r'^"((?:[^"]|"")*)"(?::"((?:[^"]|"")*)")?$')
TEAM_ENV_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "TeamInput"
  types:
    TeamInput:
      type: object
      properties:
        team:
          type: string
          default: core
"""
TEAM_ENV_FILES = {
    "schema/schema.yaml": TEAM_ENV_SCHEMA,
    "infrastructure/manifest.yaml": (
        "infrastructure:\n  templates:\n    - file: cloudformation.yaml\n"
        "      rendering_engine: jinja\n      template_language: cloudformation\n"
    ),
    "infrastructure/cloudformation.yaml": "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
}


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This environment without pcli, AWS or completion variables, plus pcli's home and `extra`."""
    dropped = ("PCLI_", "_PCLI", "_TYPER", "AWS_", "COMP_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped) and k != "CI"}
    return env | {"PCLI_HOME": str(home), "NO_COLOR": "1"} | extra


def pcli_setup(env: dict[str, str], cwd: Path, *args: str) -> None:
    proc = subprocess.run(
        [PCLI, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(tmp folder, workspace root, pcli home): a workspace whose pcli.yaml names ../reg."""
    base = tmp_path_factory.mktemp("completion")
    home = base / "home"
    env = clean_env(home)
    root = base / "ws"
    pcli_setup(env, base, "init", str(root), "--name", "demo", "--region", "eu-west-1")
    (root / "pcli.yaml").write_text((root / "pcli.yaml").read_text() + "registry: ../reg\n")
    bundle = base / "team-env"
    for relative, text in TEAM_ENV_FILES.items():
        (bundle / relative).parent.mkdir(parents=True, exist_ok=True)
        (bundle / relative).write_text(text)
    template = bundle / "infrastructure" / "cloudformation.yaml"
    for number, extra in enumerate(([], [], ["--draft"])):
        template.write_text(template.read_text() + f"# change {number}\n")
        pcli_setup(env, root, "blueprint", "publish", str(bundle), "--name", "team-env", *extra)
    steps = [
        ("env", "create", "dev", "-b", "vpc-ecs-env"),
        ("env", "create", "prod", "-b", "vpc-ecs-env", "--region", "us-west-2"),
        (
            "svc",
            "create",
            "web",
            "-b",
            "fargate-web-svc",
            "-i",
            "web-dev=dev",
            "-i",
            "web-prod=prod",
        ),
        ("svc", "create", "api", "-b", "fargate-web-svc", "-i", "api-dev=dev"),
    ]
    for step in steps:
        pcli_setup(env, root, *step, "--no-deploy")
    queue = str(STARTERS / "sqs-queue-component" / "v1")
    pcli_setup(
        env, root, "component", "create", "queue", "--service", "web", "--instance", "web-dev",
        "--bundle", queue, "--no-deploy",
    )  # fmt: skip
    return base, root, home


def run_completion(site, shell_env: dict[str, str], cwd: Path | None = None, **extra: str):
    _base, root, home = site
    env = clean_env(home, **shell_env, **extra)
    return subprocess.run(
        [PCLI], cwd=cwd or root, env=env, capture_output=True, text=True, check=False
    )


def bash(site, line: str, **kwargs) -> list[str]:
    """COMPREPLY as bash gets it: COMP_WORDS is the line, COMP_CWORD the word being completed."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    shell = {"_PCLI_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword)}
    proc = run_completion(site, shell, **kwargs)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [line for line in proc.stdout.splitlines() if line]


def zsh(site, line: str, **kwargs) -> list[tuple[str, str]] | str:
    """(value, description) pairs of the `_arguments` call zsh evaluates; "_files" for none."""
    proc = run_completion(
        site, {"_PCLI_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}, **kwargs
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    if out == "_files":
        return out
    body = out.removeprefix("_arguments '*: :((").removesuffix("))'")
    pairs = []
    for item in body.split("\n"):
        match = _ZSH_ITEM.match(item)
        assert match, item
        pairs.append((match.group(1), (match.group(2) or "").replace("''", "'")))
    return pairs


def fish(site, line: str, **kwargs) -> list[tuple[str, str]]:
    shell = {
        "_PCLI_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": line,
    }
    proc = run_completion(site, shell, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return [tuple([*line.split("\t"), ""][:2]) for line in proc.stdout.splitlines() if line]


# --- workspace names ----------------------------------------------------------------------------


def test_environment_names_complete_in_every_environment_command(site):
    for command in ("deploy", "show", "outputs", "delete"):
        assert bash(site, f"pcli env {command} ") == ["dev", "prod"]
    assert bash(site, "pcli env show p") == ["prod"]


def test_zsh_shows_each_environment_with_its_blueprint_and_region(site):
    assert zsh(site, "pcli env deploy ") == [
        ("dev", "vpc-ecs-env@1.0 eu-west-1"),
        ("prod", "vpc-ecs-env@1.0 us-west-2"),
    ]


def test_fish_completes_service_names_with_their_blueprint(site):
    assert fish(site, "pcli svc show ") == [
        ("api", "fargate-web-svc@1.0"),
        ("web", "fargate-web-svc@1.0"),
    ]
    assert fish(site, "pcli svc delete w") == [("web", "fargate-web-svc@1.0")]


def test_instances_are_those_of_the_service_typed_on_the_line(site):
    assert bash(site, "pcli svc deploy web -i ") == ["web-dev", "web-prod"]
    assert bash(site, "pcli svc deploy --yes api --instance ") == ["api-dev"]
    assert zsh(site, "pcli component create q --service web --instance ") == [
        ("web-dev", "in dev"),
        ("web-prod", "in prod"),
    ]


def test_without_a_service_every_instance_is_offered_with_its_service(site):
    assert zsh(site, "pcli component create q --instance ") == [
        ("api-dev", "service api in dev"),
        ("web-dev", "service web in dev"),
        ("web-prod", "service web in prod"),
    ]


def test_component_names_and_the_service_option_complete(site):
    assert fish(site, "pcli component deploy ") == [("queue", "attached to web/web-dev")]
    assert bash(site, "pcli component delete q") == ["queue"]
    assert bash(site, "pcli component create q --service ") == ["api", "web"]


def test_the_workspace_is_found_from_the_flag_or_the_variable_elsewhere(site):
    base, root, _home = site
    outside = base / "team-env"

    assert bash(site, "pcli env deploy ", cwd=outside) == []
    assert bash(site, f"pcli --workspace {root} env deploy ", cwd=outside) == ["dev", "prod"]
    assert bash(site, "pcli env deploy ", cwd=outside, PCLI_WORKSPACE=str(root)) == [
        "dev",
        "prod",
    ]


# --- registry names -----------------------------------------------------------------------------


def test_blueprint_names_come_from_the_workspace_registry_with_kind_and_recommended(site):
    names = zsh(site, "pcli blueprint show ")

    assert ("team-env", "environment, recommended 1.1") in names
    assert ("fargate-web-svc", "service, recommended 1.0") in names
    assert bash(site, "pcli blueprint versions te") == ["team-env"]
    assert bash(site, "pcli blueprint lint t") == ["team-env", "tf-vpc-env"]


def test_versions_follow_an_at_sign_newest_first_with_the_recommended_marked(site):
    assert zsh(site, "pcli blueprint show team-env@") == [
        ("team-env@1.2", "draft"),
        ("team-env@1.1", "recommended"),
        ("team-env@1.0", "published"),
    ]
    assert bash(site, "pcli blueprint render team-env@1.") == [
        "team-env@1.2",
        "team-env@1.1",
        "team-env@1.0",
    ]
    assert bash(site, "pcli blueprint promote team-env ") == ["1.2", "1.1", "1.0"]


def test_a_bundle_path_is_left_to_the_shell(site):
    assert bash(site, "pcli blueprint render ./") == []
    assert zsh(site, "pcli blueprint lint ../") == "_files"


def test_the_registry_flag_is_read_from_the_line(site, tmp_path):
    assert bash(site, f"pcli --registry {tmp_path} blueprint show ") == []


# --- options, settings, groups ------------------------------------------------------------------


def test_root_options_and_config_keys_complete(site):
    assert bash(site, "pcli --output ") == ["text", "json"]
    assert bash(site, "pcli --color a") == ["auto", "always"]
    assert bash(site, "pcli config set s") == ["sandbox"]
    assert bash(site, "pcli config set sandbox ") == ["true", "false"]
    assert zsh(site, "pcli config get o") == [("output", "text|json; env PCLI_OUTPUT")]


def test_aws_profiles_are_read_from_the_aws_files(site, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\n[profile dev-admin]\n[sso-session corp]\n")
    credentials = tmp_path / "aws-credentials"
    credentials.write_text("[ci]\naws_access_key_id = x\n")
    files = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}

    assert bash(site, "pcli --profile ", **files) == ["ci", "default", "dev-admin"]


def test_group_names_complete(site):
    assert bash(site, "pcli co") == ["component", "config"]


# --- never a traceback, never AWS ----------------------------------------------------------------


def test_a_broken_spec_gives_no_candidates_and_no_traceback(site):
    _base, root, _home = site
    spec = root / "services" / "web.yaml"
    saved = spec.read_text()
    spec.write_text("instances: [unclosed\n")
    try:
        assert bash(site, "pcli svc deploy web -i ") == []
    finally:
        spec.write_text(saved)


def test_a_bad_setting_gives_no_blueprint_candidates_and_no_traceback(site, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("output: xml\n")

    assert bash(site, "pcli blueprint show ", PCLI_CONFIG=str(config)) == []
    assert bash(site, "pcli env show ", PCLI_CONFIG=str(config)) == ["dev", "prod"]


MODULES_AFTER_MAIN = """
import json, sys
from protoncli.__main__ import main
try:
    main()
finally:
    sys.stderr.write(json.dumps(sorted(sys.modules)))
"""


def imported_while_completing(site, line: str) -> set[str]:
    """Every module loaded by one completion request, run as `pcli` runs it."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    shell = {"_PCLI_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword)}
    _base, root, home = site
    proc = subprocess.run(
        [sys.executable, "-c", MODULES_AFTER_MAIN],
        cwd=root,
        env=clean_env(home, **shell),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.strip(), proc.stderr
    return set(json.loads(proc.stderr))


def test_completing_a_group_name_imports_no_command_module(site):
    loaded = imported_while_completing(site, "pcli co")

    assert sorted(m for m in loaded if m.startswith("protoncli.cli.commands.")) == []


def test_completing_inside_a_group_imports_that_group_only_and_nothing_heavy(site):
    loaded = imported_while_completing(site, "pcli svc deploy web -i ")

    commands = sorted(m for m in loaded if m.startswith("protoncli.cli.commands."))
    assert commands == ["protoncli.cli.commands.service"]
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []


def test_create_commands_complete_blueprints_of_their_kind_and_versions_of_the_one_typed(site):
    assert bash(site, "pcli env create qa -b ") == ["team-env", "tf-vpc-env", "vpc-ecs-env"]
    assert bash(site, "pcli svc create shop --blueprint ") == ["fargate-web-svc", "lambda-api-svc"]
    assert bash(site, "pcli env create qa -b team-env --version ") == ["1.2", "1.1", "1.0"]
    assert bash(site, "pcli env create qa --version ") == []  # no blueprint typed yet


def test_svc_create_completes_the_environment_of_an_instance_after_the_equals_sign(site):
    assert bash(site, "pcli svc create shop -i shop-x=") == ["shop-x=dev", "shop-x=prod"]
    assert bash(site, "pcli svc create shop -i shop-x=p") == ["shop-x=prod"]
    assert bash(site, "pcli svc create shop -i shop-x") == []
