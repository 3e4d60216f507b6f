"""`create_environment` and `create_service` asking for what they were not given, through a
scripted prompter (a person typing answers), and listing what is missing when they cannot ask.

Real files throughout: a workspace, a registry with published bundles, spec files and drafts.
"""

from __future__ import annotations

import pytest
import yaml

from protoncli.aws.session import SessionFactory
from protoncli.blueprints.registry import Registry
from protoncli.deploy.environments import create_environment
from protoncli.deploy.project import Project
from protoncli.deploy.service_create import create_service
from protoncli.errors import InputError, PcliError, UsageError
from protoncli.prompting import InterviewInterrupted
from protoncli.workspace.drafts import open_draft
from protoncli.workspace.model import init_workspace

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TEMPLATE = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
TEAM_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: TeamInput
  types:
    TeamInput:
      type: object
      required: [team, size]
      properties:
        team: {type: string, title: Team, pattern: "^[a-z]+$"}
        size: {type: integer, minimum: 1, maximum: 5}
        tier: {type: string, enum: [small, large], default: small}
        token: {type: string, format: password}
"""
OTHER_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: OtherInput
  types:
    OtherInput:
      type: object
      properties:
        label: {type: string, default: x}
"""
WEB_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: WebInput
  pipeline_input_type: PipelineInput
  types:
    WebInput:
      type: object
      required: [owner]
      properties:
        owner: {type: string}
        port: {type: integer, default: 80}
    PipelineInput:
      type: object
      properties:
        stage: {type: string, default: test}
"""
DEFAULT = object()  # the typist presses Enter on what is pre-filled


class Typist:
    """A person at the terminal: answers each question with the next entry of a script.

    Text is typed (refused texts are recorded with their reason, and the next entry is
    typed); a select is answered by a choice's title, a checkbox by a list of titles;
    `KeyboardInterrupt` in the script is Ctrl-C.
    """

    def __init__(self, *script, go=True):
        self.script = list(script)
        self.go = go
        self.asked = []
        self.refused = []
        self.summaries = []

    def _next(self):
        answer = self.script.pop(0)
        if answer is KeyboardInterrupt:
            raise KeyboardInterrupt
        return answer

    def ask(self, question):
        self.asked.append(question)
        if question.kind in ("text", "integer", "number", "password"):
            return self._typed(question)
        answer = self._next()
        if answer is DEFAULT:
            return question.default
        if question.kind == "select":
            return next(c.value for c in question.choices if c.title == answer)
        if question.kind == "checkbox":
            return self._checked(question, answer)
        return answer

    def _checked(self, question, titles):
        while True:
            chosen = [c.value for c in question.choices if c.title in titles]
            reason = question.check_answer(chosen)
            if reason is None:
                return chosen
            self.refused.append((question.key, reason))
            titles = self._next()

    def _typed(self, question):
        while True:
            answer = self._next()
            text = question.default_text if answer is DEFAULT else answer
            reason = question.validate(text)
            if reason is None:
                return question.answer(text)
            self.refused.append((question.key, reason))

    def show_summary(self, title, rows):
        self.summaries.append((title, list(rows)))
        return self.go

    def keys(self):
        return [question.key for question in self.asked]


def publish(registry, tmp_path, name, schema, *, folder="infrastructure", extra=None):
    bundle = tmp_path / "bundles" / name
    files = {"schema/schema.yaml": schema, f"{folder}/manifest.yaml": MANIFEST}
    files[f"{folder}/cloudformation.yaml"] = TEMPLATE
    files.update(extra or {})
    for path, text in files.items():
        (bundle / path).parent.mkdir(parents=True, exist_ok=True)
        (bundle / path).write_text(text)
    return registry.publish(bundle, name=name).version


@pytest.fixture
def project(tmp_path):
    workspace = init_workspace(tmp_path / "ws", name="demo", region="us-east-1", registry=None)
    registry = Registry(tmp_path / "reg")
    publish(registry, tmp_path, "team-env", TEAM_SCHEMA)
    publish(registry, tmp_path, "other-env", OTHER_SCHEMA)
    return Project(workspace, registry, SessionFactory())


def publish_major(project, tmp_path, name):
    """A new major version of a published bundle (its template changed)."""
    template = tmp_path / "bundles" / name / "infrastructure" / "cloudformation.yaml"
    template.write_text(template.read_text() + "# version 2\n")
    return project.registry.publish(template.parent.parent, name=name, major=True).version


def spec_of(project, kind, name):
    folder = "environments" if kind == "environment" else "services"
    return yaml.safe_load((project.workspace.root / folder / f"{name}.yaml").read_text())


# --- environments -------------------------------------------------------------------------------


def test_env_create_asks_name_blueprint_version_and_inputs_in_order(project, tmp_path):
    publish_major(project, tmp_path, "team-env")
    typist = Typist("dev", "team-env", "1.0", "core", "2", "large", "")

    record = create_environment(project, None, None, prompter=typist)

    assert typist.keys() == [
        "name",
        "blueprint",
        "version",
        "inputs.team",
        "inputs.size",
        "inputs.tier",
        "inputs.token",
    ]
    blueprints, versions = typist.asked[1].choices, typist.asked[2].choices
    assert [(c.title, c.description) for c in blueprints] == [
        ("other-env", None),
        ("team-env", None),
    ]
    assert [c.title for c in versions] == ["2.0 (recommended)", "1.0"]
    assert (record.name, record.blueprint, record.version) == ("dev", "team-env", "1.0")
    assert spec_of(project, "environment", "dev")["spec"] == {
        "team": "core",
        "size": 2,
        "tier": "large",
    }
    ((title, rows),) = typist.summaries
    assert title == f"Environment dev, to be written to {record.path}:"
    assert rows == [
        ("blueprint", "team-env@1.0"),
        ("region", "us-east-1"),
        ("team", "core"),
        ("size", "2"),
        ("tier", "large"),
    ]


def test_env_create_refuses_an_invalid_answer_with_its_reason_and_asks_again(project):
    typist = Typist("dev", "Core", "core", "many", "9", "3", DEFAULT, "")

    create_environment(project, None, "team-env", prompter=typist)

    assert typist.refused == [
        ("inputs.team", "'Core' must be lower-case letters only"),
        ("inputs.size", "expected a whole number (integer)"),
        ("inputs.size", "9 is greater than the maximum of 5"),
    ]
    assert spec_of(project, "environment", "dev")["spec"] == {
        "team": "core",
        "size": 3,
        "tier": "small",
    }


def test_env_create_asks_only_what_flags_and_the_spec_file_do_not_give(project):
    from protoncli.specs.model import EnvironmentSpec

    typist = Typist("")  # the secret token only
    spec = EnvironmentSpec(inputs={"tier": "large"}, source="given.yaml")

    create_environment(
        project, "dev", "team-env", spec=spec, params={"team": "ops", "size": "4"}, prompter=typist
    )

    assert typist.keys() == ["inputs.token"]
    assert spec_of(project, "environment", "dev")["spec"] == {
        "tier": "large",
        "team": "ops",
        "size": 4,
    }


def test_env_create_name_question_refuses_a_taken_or_invalid_name(project):
    create_environment(project, "dev", "team-env", params={"team": "a", "size": "1"})
    typist = Typist("dev", "bad name", "prod", "b", "2", DEFAULT, "")

    record = create_environment(project, None, "team-env", prompter=typist)

    assert record.name == "prod"
    dev = project.workspace.root / "environments" / "dev.yaml"
    (_, taken), (_, invalid) = typist.refused
    assert taken == f"environment 'dev' already exists: {dev}"
    assert invalid.startswith("environment name 'bad name': must match ")


def test_ctrl_c_keeps_the_answers_given_and_the_next_create_offers_them(project):
    first = Typist("dev", "core", "4", KeyboardInterrupt)

    with pytest.raises(InterviewInterrupted) as stopped:
        create_environment(project, None, "team-env", prompter=first)

    draft = open_draft(project.workspace.root, "environment", "dev")
    assert stopped.value.kept == str(draft.path)
    assert stopped.value.command == "pcli env create dev"
    assert draft.answers == {"inputs.team": "core", "inputs.size": 4}
    assert not (project.workspace.root / "environments" / "dev.yaml").exists()

    second = Typist(DEFAULT, DEFAULT, DEFAULT, "")
    create_environment(project, "dev", "team-env", prompter=second)

    assert [q.default_text for q in second.asked[:2]] == ["core", "4"]
    assert spec_of(project, "environment", "dev")["spec"]["team"] == "core"
    assert not draft.path.exists()  # written: the draft is gone


def test_a_secret_answer_is_never_kept_in_the_draft(project):
    typist = Typist("core", "2", DEFAULT, "s3cret-token", go=False)

    with pytest.raises(PcliError, match="nothing was written"):
        create_environment(project, "dev", "team-env", prompter=typist)

    draft = open_draft(project.workspace.root, "environment", "dev")
    assert draft.answers == {"inputs.team": "core", "inputs.size": 2, "inputs.tier": "small"}
    assert "s3cret-token" not in draft.path.read_text()
    assert ("token", "******") in typist.summaries[0][1]
    assert not (project.workspace.root / "environments" / "dev.yaml").exists()


def test_without_a_prompter_every_missing_thing_is_one_error_with_its_flag(project):
    with pytest.raises(InputError) as raised:
        create_environment(project, None, "team-env", params={"tier": "large"})

    error = raised.value
    assert error.message == "new environment: 3 required value(s) missing: NAME, team, size"
    assert error.details == [
        "NAME: the new environment's name (the first argument)",
        "new environment: input 'team' is required (type string)",
        "new environment: input 'size' is required (type integer)",
    ]
    assert error.hint == (
        "give them with NAME --param team=VALUE --param size=VALUE "
        "(or in a spec file with --spec FILE)"
    )


def test_without_a_prompter_a_missing_blueprint_names_the_known_ones(project):
    with pytest.raises(InputError) as raised:
        create_environment(project, None, None)

    assert raised.value.message == "new environment: 2 required value(s) missing: NAME, --blueprint"
    assert raised.value.details[1] == (
        "--blueprint: the environment blueprint, NAME or NAME@VERSION "
        "(in the registry: other-env, team-env)"
    )


def test_the_spec_header_can_name_the_blueprint_and_version_pick_one(project, tmp_path):
    from protoncli.specs.model import EnvironmentSpec

    publish_major(project, tmp_path, "team-env")
    spec = EnvironmentSpec(inputs={"team": "a", "size": 1}, header={"blueprint": "team-env"})

    record = create_environment(project, "dev", None, spec=spec, version="1.0")

    assert (record.blueprint, record.version) == ("team-env", "1.0")
    with pytest.raises(UsageError, match=r"--blueprint team-env@2\.0 and --version 1\.0 name"):
        create_environment(project, "prod", "team-env@2.0", spec=spec, version="1.0")


# --- services -----------------------------------------------------------------------------------


@pytest.fixture
def web(project, tmp_path):
    """web-svc (compatible with team-env:1) and three environments, two of them compatible."""
    extra = {
        ".template-registration.yaml": "compatible_environments:\n  - team-env:1\n",
        "pipeline_infrastructure/manifest.yaml": MANIFEST,
        "pipeline_infrastructure/cloudformation.yaml": TEMPLATE,
    }
    publish(
        project.registry, tmp_path, "web-svc", WEB_SCHEMA, folder="instance_infrastructure",
        extra=extra,
    )  # fmt: skip
    for env in ("dev", "prod"):
        create_environment(project, env, "team-env", params={"team": "a", "size": "1"})
    create_environment(project, "lab", "other-env")
    return "web-svc"


def test_svc_create_offers_only_compatible_environments_then_inputs_per_instance(project, web):
    typist = Typist(
        "web-svc", ["dev", "prod"], DEFAULT, "web-live", "ops", "8080", DEFAULT, DEFAULT, "qa"
    )

    record = create_service(project, "web", None, instances=[], prompter=typist)

    assert typist.keys() == [
        "blueprint",
        "environments",
        "instance_names.dev",
        "instance_names.prod",
        "instances.web-dev.inputs.owner",
        "instances.web-dev.inputs.port",
        "instances.web-live.inputs.owner",
        "instances.web-live.inputs.port",
        "pipeline.stage",
    ]
    environments = typist.asked[1]
    assert [(c.title, c.description) for c in environments.choices] == [
        ("dev", "team-env@1.0, us-east-1"),
        ("prod", "team-env@1.0, us-east-1"),
    ]
    assert typist.asked[2].default_text == "web-dev"
    assert typist.asked[6].default_text == "ops"  # the first instance's answer, pre-filled
    assert record.name == "web"
    document = spec_of(project, "service", "web")
    assert document["pipeline"] == {"stage": "qa"}
    assert document["instances"] == [
        {"name": "web-dev", "environment": "dev", "spec": {"owner": "ops", "port": 8080}},
        {"name": "web-live", "environment": "prod", "spec": {"owner": "ops", "port": 8080}},
    ]
    rows = typist.summaries[0][1]
    assert rows[:4] == [
        ("blueprint", "web-svc@1.0"),
        ("instance web-dev", "in environment dev"),
        ("web-dev.owner", "ops"),
        ("web-dev.port", "8080"),
    ]
    assert rows[-1] == ("pipeline.stage", "qa")


def test_svc_create_refuses_no_environment_and_a_taken_instance_name(project, web):
    typist = Typist([], ["dev", "prod"], "api", "api", "api-2", "x", DEFAULT, "y", DEFAULT, "")

    create_service(project, "api", "web-svc", instances=[], prompter=typist)

    assert typist.refused == [
        ("environments", "choose at least one environment"),
        ("instance_names.prod", "instance 'api' is already chosen"),
    ]
    instances = spec_of(project, "service", "api")["instances"]
    assert [(i["name"], i["environment"]) for i in instances] == [("api", "dev"), ("api-2", "prod")]


def test_svc_create_without_a_prompter_lists_name_blueprint_and_instances(project, web):
    with pytest.raises(InputError) as raised:
        create_service(project, None, "web-svc", instances=[])

    error = raised.value
    assert error.message == "new service: 3 required value(s) missing: NAME, --instance, owner"
    assert error.details == [
        "NAME: the new service's name (the first argument)",
        (
            "--instance: the service's instances, one per environment "
            "(compatible environments here: dev, prod)"
        ),
        "input 'owner' is required",
    ]
    assert error.hint == (
        "give them with NAME --instance INSTANCE=ENVIRONMENT --param owner=VALUE "
        "(or in a spec file with --spec FILE)"
    )


def test_a_secret_answer_goes_to_secrets_manager_and_the_spec_holds_a_reference(project, moto_url):
    from dataclasses import replace

    from protoncli.deploy.project import AwsSettings

    project = replace(project, settings=AwsSettings(endpoint_url=moto_url))
    typist = Typist(DEFAULT, "s3cret-token")

    record = create_environment(
        project, "dev", "team-env", params={"team": "a", "size": "1"}, prompter=typist
    )

    text = record.path.read_text()
    assert "s3cret-token" not in text
    reference = "{{resolve:secretsmanager:pcli/demo/env/dev/token:SecretString}}"
    assert spec_of(project, "environment", "dev")["spec"]["token"] == reference
    assert ("token", "******") in typist.summaries[0][1]
