"""Dynamic completion, called as bash, zsh and fish call it: `pcli` run with their variables.

One real workspace (pcli init, env/svc/component create --no-deploy) and a registry (starters
plus a blueprint with two published versions and a draft), built once with the real CLI; each
test runs `.venv/bin/pcli` in a subprocess as a shell's completion script does. bash's answers
are the text bash replaces (after the last `=`, from the last `@`); "files" means pcli lets the
shell complete file names.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from protoncli.cli.completion_shells import DEFAULT_WORDBREAKS

PCLI = str(Path(sys.executable).with_name("pcli"))
STARTERS = Path(__file__).resolve().parents[2] / "blueprints"
HEAVY = ("boto3", "botocore", "jinja2", "jsonschema", "questionary", "cfnlint", "moto")
_ZSH_ITEM = re.compile(r'^"((?:[^"]|"")*)"(?::"((?:[^"]|"")*)")?$')
_ZSH_DESCRIBED = re.compile(
    r"^local -a _pcli_items=\((.*)\); _describe -t values value _pcli_items -S ''$"
)
TEAM_ENV_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "TeamInput"
  types:
    TeamInput:
      type: object
      required: [team]
      properties:
        team:
          type: string
          default: core
        tier:
          type: string
          description: "How much it costs"
          enum: [small, large]
          default: small
        public:
          type: boolean
          default: false
"""
BUDGET_INPUT = """\
        budget:
          type: number
          default: 10
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
    (root / "pcli.yaml").write_text(
        (root / "pcli.yaml").read_text()
        + "registry: ../reg\n"
        + "accounts:\n  prod:\n    id: '111111111111'\n"
        + "    role_arn: arn:aws:iam::111111111111:role/deploy\n"
    )
    bundle = base / "team-env"
    for relative, text in TEAM_ENV_FILES.items():
        (bundle / relative).parent.mkdir(parents=True, exist_ok=True)
        (bundle / relative).write_text(text)
    template = bundle / "infrastructure" / "cloudformation.yaml"
    schema = bundle / "schema" / "schema.yaml"
    for number, extra in enumerate(([], [], ["--draft"])):
        template.write_text(template.read_text() + f"# change {number}\n")
        if extra:  # the draft (1.2) has one input more
            schema.write_text(schema.read_text() + BUDGET_INPUT)
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


def bash(site, line: str, **kwargs) -> list[str] | str:
    """COMPREPLY as pcli's bash script gets it (the line up to the cursor in COMP_LINE), or
    "files" when pcli lets bash complete file names (exit status 1, nothing printed)."""
    shell = {
        "_PCLI_COMPLETE": "complete_bash",
        "COMP_LINE": line,
        "COMP_WORDBREAKS": DEFAULT_WORDBREAKS,
    }
    proc = run_completion(site, shell, **kwargs)
    assert proc.stderr == ""
    if proc.returncode == 1 and not proc.stdout.strip():
        return "files"
    assert proc.returncode == 0
    return [line for line in proc.stdout.splitlines() if line]


def old_bash(site, line: str, **kwargs) -> list[str]:
    """COMPREPLY as the script of an older pcli (Typer's) gets it: COMP_WORDS split as bash
    splits them (at `@` and `=` too), joined with newlines, and COMP_CWORD."""
    words = re.findall(r"[^\s@=:]+|[@=:]+", line) + ([""] if line.endswith(" ") else [])
    shell = {
        "_PCLI_COMPLETE": "complete_bash",
        "COMP_WORDS": "\n".join(words),
        "COMP_CWORD": str(len(words) - 1),
    }
    proc = run_completion(site, shell, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def zsh(site, line: str, **kwargs) -> list[tuple[str, str]] | str:
    """(value, description) pairs of the `_arguments` (or, for `KEY=` with no space after it,
    `_describe`) call zsh evaluates; "_files" for file names, [] for nothing at all."""
    proc = run_completion(
        site, {"_PCLI_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}, **kwargs
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    if out == "_files":
        return out
    if not out:
        return []
    described = _ZSH_DESCRIBED.match(out)
    if described:
        items = re.findall(r"'((?:[^'\\]|\\.)*?)'(?= |$)", described.group(1))
        return [tuple([*re.split(r"(?<!\\):", item, maxsplit=1), ""][:2]) for item in items]
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
    assert bash(site, "pcli blueprint render team-env@1.") == ["@1.2", "@1.1", "@1.0"]
    assert bash(site, "pcli blueprint promote team-env ") == ["1.2", "1.1", "1.0"]


def test_a_bundle_path_is_left_to_the_shell(site):
    assert bash(site, "pcli blueprint render ./") == "files"
    assert zsh(site, "pcli blueprint lint ../") == "_files"
    assert bash(site, "pcli blueprint render my-bundle") == "files"  # no blueprint is called so


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
    shell = {"_PCLI_COMPLETE": "complete_bash", "COMP_LINE": line}
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
    assert bash(site, "pcli env create qa -b ") == [
        "external-env",
        "team-env",
        "tf-vpc-env",
        "vpc-ecs-env",
    ]
    assert bash(site, "pcli svc create shop --blueprint ") == ["fargate-web-svc", "lambda-api-svc"]
    assert bash(site, "pcli env create qa -b team-env --version ") == ["1.2", "1.1", "1.0"]
    assert bash(site, "pcli env create qa --version ") == []  # no blueprint typed yet


def test_svc_create_completes_the_environment_of_an_instance_after_the_equals_sign(site):
    assert bash(site, "pcli svc create shop -i shop-x=") == ["dev", "prod"]
    assert bash(site, "pcli svc create shop -i shop-x=p") == ["prod"]
    assert bash(site, "pcli svc create shop -i shop-x") == []
    assert zsh(site, "pcli svc create shop -i shop-x=") == [
        ("shop-x=dev", "vpc-ecs-env@1.0 eu-west-1"),
        ("shop-x=prod", "vpc-ecs-env@1.0 us-west-2"),
    ]
    assert fish(site, "pcli svc create shop --instance shop-x=d") == [
        ("shop-x=dev", "vpc-ecs-env@1.0 eu-west-1")
    ]


# --- KEY=VALUE options: the blueprint's inputs, then their values --------------------------------


def test_param_offers_the_inputs_of_the_blueprint_typed_with_no_space_after_them(site):
    assert zsh(site, "pcli env create qa -b team-env -p ") == [
        ("team=", "string, required"),
        ("tier=", "string: How much it costs"),
        ("public=", "boolean"),
    ]
    assert bash(site, "pcli env create qa -b team-env --param t") == ["team=", "tier="]
    assert bash(site, "pcli env create qa -b team-env -p team=x -p t") == ["tier="]  # given


def test_param_values_are_the_inputs_allowed_values(site):
    assert bash(site, "pcli env create qa -b team-env -p tier=") == ["small", "large"]
    assert bash(site, "pcli env create qa -b team-env -p public=t") == ["true"]
    assert fish(site, "pcli env create qa -b team-env -p tier=l") == [("tier=large", "")]
    assert bash(site, "pcli env create qa -b team-env -p team=") == []  # any text: no files


def test_param_reads_the_version_chosen_on_the_line(site):
    recommended = bash(site, "pcli env create qa -b team-env -p b")
    assert recommended == []  # 1.1, the recommended version, has no budget input
    assert bash(site, "pcli env create qa -b team-env@1.2 -p b") == ["budget="]
    assert bash(site, "pcli env create qa -b team-env --version 1.2 -p b") == ["budget="]
    assert bash(site, "pcli upgrade -b team-env --to 1.2 --param b") == ["budget="]
    assert bash(site, "pcli env create qa -p ") == []  # no blueprint yet: nothing, no files


def test_pipeline_param_offers_the_pipeline_inputs(site):
    assert bash(site, "pcli svc create shop -b fargate-web-svc --pipeline-param b") == [
        "build_image="
    ]
    assert bash(site, "pcli svc create shop -b fargate-web-svc -p task_size=s") == ["small"]


def test_an_option_written_with_its_value_keeps_it_in_every_candidate(site):
    assert zsh(site, "pcli --color=a") == [("--color=auto", "default"), ("--color=always", "")]
    assert bash(site, "pcli --color=a") == ["auto", "always"]
    assert fish(site, "pcli svc create shop --instance=shop-x=p") == [
        ("--instance=shop-x=prod", "vpc-ecs-env@1.0 us-west-2")
    ]


# --- file names only where a path is expected ----------------------------------------------------


def test_names_never_fall_back_to_file_names(site):
    assert bash(site, "pcli env deploy zz") == []
    assert bash(site, "pcli svc create shop -i zz") == []
    assert bash(site, "pcli blueprint show zz") == []
    assert bash(site, "pcli config set output x") == []
    assert zsh(site, "pcli svc create shop -i shop-x=zz") == []
    assert zsh(site, "pcli component deploy zz") == []


def test_paths_fall_back_to_file_names(site):
    assert bash(site, "pcli blueprint render team-env --spec sp") == "files"
    assert bash(site, "pcli config set registry ./r") == "files"
    assert zsh(site, "pcli blueprint render team-env --output-dir o") == "_files"


def fish_files(site, line: str) -> bool:
    """fish's `is-args` question: False when pcli has candidates or wants no file names."""
    shell = {
        "_PCLI_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "is-args",
        "_TYPER_COMPLETE_ARGS": line,
    }
    proc = run_completion(site, shell)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode == 1


def test_fish_is_told_where_file_names_fit(site):
    assert fish_files(site, "pcli svc create shop -i shop-x=zz") is False
    assert fish_files(site, "pcli env deploy ") is False
    assert fish_files(site, "pcli blueprint lint ./") is True


# --- scripts of older pcli versions (Typer's: the words bash split) ------------------------------


def test_an_older_script_gets_versions_and_environments_after_the_break(site):
    assert old_bash(site, "pcli blueprint show team-env@") == ["@1.2", "@1.1", "@1.0"]
    assert old_bash(site, "pcli svc create shop -i shop-x=p") == ["prod"]
    assert old_bash(site, "pcli env deploy ") == ["dev", "prod"]


# --- every completer reads local files only ------------------------------------------------------

# One line per completer (the function a parameter's `autocompletion=` names).
LINE_OF_COMPLETER = {
    "complete_account_names": "pcli account check ",
    "complete_aws_profiles": "pcli --profile ",
    "complete_blueprint_names": "pcli blueprint versions ",
    "complete_blueprint_refs": "pcli blueprint show team-env@",
    "complete_blueprint_versions": "pcli blueprint promote team-env ",
    "complete_bundles": "pcli blueprint render te",
    "complete_chosen_blueprint_versions": "pcli env create qa -b team-env --version ",
    "complete_color_modes": "pcli --color ",
    "complete_components": "pcli component deploy ",
    "complete_drift_names": "pcli drift ",
    "complete_environment_blueprint_refs": "pcli env create qa -b team-env@",
    "complete_environments": "pcli env deploy ",
    "complete_inputs": "pcli env create qa -b team-env -p tier=",
    "complete_instances": "pcli svc deploy web -i ",
    "complete_output_modes": "pcli --output ",
    "complete_pipeline_inputs": "pcli svc create shop -b fargate-web-svc --pipeline-param ",
    "complete_placements": "pcli svc create shop -i shop-x=",
    "complete_rule_names": "pcli env deploy dev --override-rule ",
    "complete_service_blueprint_refs": "pcli svc create shop -b fargate-web-svc@",
    "complete_services": "pcli svc show ",
    "complete_setting_keys": "pcli config get ",
    "complete_setting_values": "pcli config set color ",
}

MODULES_AFTER_REQUESTS = """
import io, json, os, sys
from protoncli.__main__ import main
answered = []
for line in json.loads(sys.argv[1]):
    os.environ["COMP_LINE"] = line
    stdout, sys.stdout = sys.stdout, io.StringIO()
    try:
        code, candidates = main(), sys.stdout.getvalue()
    finally:
        sys.stdout = stdout
    answered.append(code == 0 and bool(candidates.strip()))
print(json.dumps({"answered": answered, "modules": sorted(sys.modules)}))
"""


def test_override_rule_completes_the_guardrails_of_the_registrys_blueprints(site):
    assert bash(site, "pcli env deploy dev --override-rule ") == [
        "log_group_retention_set",
        "no_public_admin_ingress",
        "s3_bucket_encrypted",
        "sqs_queue_encrypted",
    ]
    assert bash(site, "pcli apply --override-rule no_") == ["no_public_admin_ingress"]


def test_every_completer_is_covered_by_the_import_check():
    import inspect

    from protoncli.cli import completion
    from protoncli.cli.commands import drift

    completers = {
        name
        for module in (completion, drift)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if name.startswith("complete_") and function.__module__ == module.__name__
    }
    assert completers == set(LINE_OF_COMPLETER)


def test_no_completer_imports_aws_or_other_heavy_modules(site, tmp_path):
    """Every completer's request, in one process: no boto3, botocore, moto, jinja2..."""
    _base, root, home = site
    lines = list(LINE_OF_COMPLETER.values())
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[profile dev-admin]\n")
    shell = {"_PCLI_COMPLETE": "complete_bash", "COMP_WORDBREAKS": DEFAULT_WORDBREAKS}
    proc = subprocess.run(
        [sys.executable, "-c", MODULES_AFTER_REQUESTS, json.dumps(lines)],
        cwd=root,
        env=clean_env(home, AWS_CONFIG_FILE=str(aws_config), **shell),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)

    assert dict(zip(lines, report["answered"], strict=True)) == dict.fromkeys(lines, True)
    assert sorted(m for m in report["modules"] if m.split(".")[0] in HEAVY) == []
