"""Loading bundles: layouts, manifest forms, and the errors a platform team sees."""

from __future__ import annotations

import tempfile

import pytest

from protoncli.blueprints.bundle import load_bundle
from protoncli.blueprints.model import Engine, Kind, Provisioning
from protoncli.errors import BundleError, NotFoundError

TF_NAMED_MANIFEST = """\
infrastructure:
  templates:
    - file: "main.tf"
      rendering_engine: hcl
      template_language: terraform
"""

CODEBUILD_MANIFEST = """\
infrastructure:
  templates:
    - rendering_engine: codebuild
      settings:
        image: aws/codebuild/amazonlinux2-x86_64-standard:4.0
        runtimes:
          nodejs: 16
        provision:
          - npm install
          - npm run cdk deploy
        deprovision:
          - npm run cdk destroy
        project_properties:
          VpcConfig:
            VpcId: "{{ environment.inputs.vpc_id }}"
        env:
          variables:
            STAGE: dev
"""


def load_error(path) -> str:
    with pytest.raises(BundleError) as caught:
        load_bundle(path)
    return caught.value.message


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Point tempfile at a folder of the test, to see that archive loading cleans up."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# -- layouts ---------------------------------------------------------------------------------


def test_cloudformation_environment(tmp_path, write_tree, env_files):
    env_files[".DS_Store"] = b"\0\1"
    root = write_tree(tmp_path / "network", env_files)
    bundle = load_bundle(root)
    assert bundle.kind is Kind.ENVIRONMENT
    assert bundle.provisioning is Provisioning.CLOUDFORMATION
    assert bundle.root == str(root)
    assert bundle.schema is not None
    assert bundle.schema.main.name == "NetworkInput"
    assert bundle.schema.source == str(root / "schema/schema.yaml")
    manifest = bundle.infrastructure
    assert manifest is not None
    assert manifest.folder == "infrastructure"
    assert manifest.source == str(root / "infrastructure/manifest.yaml")
    assert manifest.entry.engine is Engine.JINJA
    assert manifest.entry.language == "cloudformation"
    assert dict(manifest.files) == {
        "cloudformation.yaml": env_files["infrastructure/cloudformation.yaml"]
    }
    assert bundle.pipeline is None
    assert sorted(bundle.files) == sorted(env_files)
    assert bundle.files["README.md"] == b"# network\n"
    assert bundle.sample_spec() == env_files["spec/spec.yaml"]


def test_terraform_named_file(tmp_path, write_tree):
    root = write_tree(
        tmp_path,
        {
            "schema/schema.yaml": _schema("environment"),
            "infrastructure/manifest.yaml": TF_NAMED_MANIFEST,
            "infrastructure/main.tf": 'resource "null_resource" "x" {}\n',
            "infrastructure/other.tf": "# not selected\n",
        },
    )
    bundle = load_bundle(root)
    assert bundle.provisioning is Provisioning.TERRAFORM
    assert bundle.infrastructure is not None
    assert bundle.infrastructure.entry.file == "main.tf"
    assert list(bundle.infrastructure.files) == ["main.tf"]


def test_terraform_star_takes_every_tf_file_sorted(tmp_path, write_tree):
    root = write_tree(
        tmp_path,
        {
            "schema/schema.yaml": _schema("environment"),
            "infrastructure/manifest.yaml": _tf_star(),
            "infrastructure/variables.tf": "variable x {}\n",
            "infrastructure/main.tf": "# main\n",
            "infrastructure/ecs_drain_hook_lambda.zip": b"PK\3\4\xff\xfe",
            "infrastructure/README.md": "not terraform\n",
            "infrastructure/modules/vpc/main.tf": "# a module, not a root file\n",
        },
    )
    bundle = load_bundle(root)
    assert bundle.infrastructure is not None
    assert list(bundle.infrastructure.files) == ["main.tf", "variables.tf"]
    assert bundle.files["infrastructure/ecs_drain_hook_lambda.zip"] == b"PK\3\4\xff\xfe"


def test_codebuild_environment_keeps_text_sources(tmp_path, write_tree):
    root = write_tree(
        tmp_path,
        {
            "schema/schema.yaml": _schema("environment"),
            "infrastructure/manifest.yaml": CODEBUILD_MANIFEST,
            "infrastructure/package.json": '{"name": "cdk"}\n',
            "infrastructure/src/main.ts": "export {}\n",
            "infrastructure/logo.png": b"\x89PNG\r\n\x1a\n\xff",
            "infrastructure/__pycache__/x.cpython-311.pyc": b"\x00\x01",
        },
    )
    bundle = load_bundle(root)
    manifest = bundle.infrastructure
    assert manifest is not None
    assert bundle.provisioning is Provisioning.CODEBUILD
    assert manifest.entry.file is None
    assert manifest.entry.language is None
    assert manifest.entry.settings is not None
    assert manifest.entry.settings["provision"] == ["npm install", "npm run cdk deploy"]
    assert manifest.entry.settings["env"] == {"variables": {"STAGE": "dev"}}
    assert dict(manifest.files) == {
        "package.json": '{"name": "cdk"}\n',
        "src/main.ts": "export {}\n",
    }


def test_customer_managed_environment(tmp_path, write_tree):
    root = write_tree(tmp_path, {"schema/schema.yaml": _schema("environment")})
    bundle = load_bundle(root)
    assert bundle.kind is Kind.ENVIRONMENT
    assert bundle.infrastructure is None
    assert bundle.provisioning is Provisioning.CUSTOMER_MANAGED


def test_service_with_and_without_pipeline(tmp_path, write_tree, service_files):
    bundle = load_bundle(write_tree(tmp_path / "web", service_files))
    assert bundle.kind is Kind.SERVICE
    assert bundle.schema is not None
    assert bundle.schema.pipeline is not None
    assert bundle.infrastructure is not None
    assert bundle.infrastructure.folder == "instance_infrastructure"
    assert bundle.pipeline is not None
    assert bundle.pipeline.folder == "pipeline_infrastructure"
    assert bundle.has_pipeline
    assert [str(env) for env in bundle.compatible_environments] == ["network:1", "network:2"]
    assert bundle.component_sources == ("DIRECTLY_DEFINED",)

    plain = {k: v for k, v in service_files.items() if not k.startswith("pipeline_")}
    plain["schema/schema.yaml"] = _schema("service")
    bundle = load_bundle(write_tree(tmp_path / "plain", plain))
    assert bundle.pipeline is None
    assert not bundle.has_pipeline


def test_components(tmp_path, write_tree, component_files):
    bundle = load_bundle(write_tree(tmp_path / "cfn", component_files))
    assert bundle.kind is Kind.COMPONENT
    assert bundle.schema is None
    assert bundle.infrastructure is not None
    assert bundle.infrastructure.folder == ""
    assert bundle.infrastructure.source == str(tmp_path / "cfn" / "manifest.yaml")
    assert list(bundle.infrastructure.files) == ["cloudformation.yaml"]

    tf = write_tree(
        tmp_path / "tf",
        {"manifest.yaml": _tf_star(), "component.tf": "# c\n", "outputs.tf": "# o\n"},
    )
    bundle = load_bundle(tf)
    assert bundle.provisioning is Provisioning.TERRAFORM
    assert bundle.infrastructure is not None
    assert list(bundle.infrastructure.files) == ["component.tf", "outputs.tf"]


def test_component_cannot_use_codebuild(tmp_path, write_tree):
    root = write_tree(tmp_path, {"manifest.yaml": CODEBUILD_MANIFEST})
    assert load_error(root) == (
        f"{root / 'manifest.yaml'}: rendering_engine codebuild is not available for components; "
        "use jinja (CloudFormation) or hcl (Terraform)"
    )


def test_wrapper_folder_in_a_directory(tmp_path, write_tree, env_files):
    write_tree(tmp_path / "repo" / "environment", env_files)
    bundle = load_bundle(tmp_path / "repo")
    assert bundle.root == str(tmp_path / "repo" / "environment")
    assert "schema/schema.yaml" in bundle.files


def test_template_sync_layout_picks_the_one_version_folder(tmp_path, write_tree, env_files):
    write_tree(tmp_path / "network" / "v1", env_files)
    (tmp_path / "network" / "README.md").write_text("about\n")
    bundle = load_bundle(tmp_path / "network")
    assert bundle.root == str(tmp_path / "network" / "v1")


def test_too_deep_in_a_directory(tmp_path, write_tree, env_files):
    write_tree(tmp_path / "repo" / "network" / "v1", env_files)
    assert load_error(tmp_path / "repo") == (
        f"{tmp_path / 'repo'}: bundle root nested too deeply (network/v1/); "
        "expected it at the top or inside one wrapper folder"
    )


def test_tarball_with_wrapper_folder(tmp_path, tarball_of, env_files, scratch):
    archive = tarball_of(tmp_path / "env.tar.gz", env_files, prefix="environment/")
    bundle = load_bundle(archive)
    assert bundle.root == str(archive)
    assert bundle.kind is Kind.ENVIRONMENT
    assert sorted(bundle.files) == sorted(env_files)
    assert bundle.infrastructure is not None
    assert bundle.infrastructure.source == f"{archive}: environment/infrastructure/manifest.yaml"
    assert list(scratch.iterdir()) == []


def test_tarball_errors_name_the_member_and_clean_up(tmp_path, tarball_of, env_files, scratch):
    env_files["infrastructure/manifest.yaml"] = "infrastructure:\n  templates: {}\n"
    archive = tarball_of(tmp_path / "env.tgz", env_files)
    assert load_error(archive) == (
        f"{archive}: infrastructure/manifest.yaml:2: 'infrastructure.templates' must be a list "
        "(expected infrastructure: {templates: [{file, rendering_engine, template_language}]})"
    )
    assert list(scratch.iterdir()) == []


def test_missing_source(tmp_path):
    with pytest.raises(NotFoundError) as caught:
        load_bundle(tmp_path / "nope")
    assert caught.value.message == f"{tmp_path / 'nope'}: no such bundle folder or archive"


# -- layout and schema disagreements ---------------------------------------------------------

EXPECTED = (
    "expected schema/ + infrastructure/ (environment), schema/ alone (customer-managed "
    "environment), schema/ + instance_infrastructure/ [+ pipeline_infrastructure/] (service), "
    "or manifest.yaml + IaC without schema/ (component)"
)


@pytest.mark.parametrize(
    ("folders", "found"),
    [
        (
            ["schema", "infrastructure", "instance_infrastructure"],
            "infrastructure/, instance_infrastructure/, schema/",
        ),
        (["schema", "pipeline_infrastructure"], "pipeline_infrastructure/, schema/"),
        (["infrastructure"], "infrastructure/"),
        (["instance_infrastructure", "manifest"], "instance_infrastructure/, manifest.yaml"),
    ],
)
def test_unknown_template_kind(tmp_path, write_tree, folders, found):
    files = {f"{folder}/x.yaml": "x: 1\n" for folder in folders if folder != "manifest"}
    if "manifest" in folders:
        files["manifest.yaml"] = "x: 1\n"
    root = write_tree(tmp_path, files)
    assert load_error(root) == f"{root}: unknown template kind: found {found}; {EXPECTED}"


def test_schema_kind_must_match_layout(tmp_path, write_tree, env_files, service_files):
    env_files["schema/schema.yaml"] = _schema("service")
    env = write_tree(tmp_path / "env", env_files)
    assert load_error(env) == (
        f"{env / 'schema/schema.yaml'}: declares service_input_type, but the bundle has "
        "infrastructure/ (an environment layout); a service bundle has instance_infrastructure/"
    )
    managed = write_tree(tmp_path / "managed", {"schema/schema.yaml": _schema("service")})
    assert load_error(managed) == (
        f"{managed / 'schema/schema.yaml'}: declares service_input_type, but the bundle has no "
        "instance_infrastructure/ folder; a service bundle has instance_infrastructure/"
    )
    service_files["schema/schema.yaml"] = _schema("environment")
    svc = write_tree(tmp_path / "svc", service_files)
    assert load_error(svc).startswith(
        f"{svc / 'schema/schema.yaml'}: declares environment_input_type, but the bundle has "
        "instance_infrastructure/ (a service layout)"
    )


def test_pipeline_folder_and_schema_must_agree(tmp_path, write_tree, service_files):
    no_folder = {k: v for k, v in service_files.items() if not k.startswith("pipeline_")}
    root = write_tree(tmp_path / "a", no_folder)
    assert load_error(root) == (
        f"{root / 'schema/schema.yaml'}: declares pipeline_input_type 'PipelineInput', but the "
        "bundle has no pipeline_infrastructure/ folder"
    )
    service_files["schema/schema.yaml"] = _schema("service")
    root = write_tree(tmp_path / "b", service_files)
    assert load_error(root) == (
        f"{root / 'pipeline_infrastructure'}: present, but {root / 'schema/schema.yaml'} "
        "declares no pipeline_input_type"
    )


def test_missing_schema_file_and_bad_schema(tmp_path, write_tree, env_files):
    env_files["schema/schema.yml"] = env_files.pop("schema/schema.yaml")
    root = write_tree(tmp_path / "a", env_files)
    assert load_error(root) == f"{root / 'schema'}: missing schema.yaml"
    root = write_tree(tmp_path / "b", {"schema/schema.yaml": "schema:\n  format: [\n"})
    assert load_error(root).startswith(f"{root / 'schema/schema.yaml'}:3: invalid YAML")
    root = write_tree(tmp_path / "c", {"schema/schema.yaml": b"schema: \xff\xfe\n"})
    assert load_error(root) == (
        f"{root / 'schema/schema.yaml'}: not UTF-8 text (byte 8); a schema file must be text"
    )


# -- manifests -------------------------------------------------------------------------------


def test_unhashable_engine_is_reported(tmp_path, write_tree, env_files):
    env_files["infrastructure/manifest.yaml"] = (
        "infrastructure:\n  templates:\n    - file: x.yaml\n      rendering_engine: [jinja]\n"
    )
    root = write_tree(tmp_path, env_files)
    assert load_error(root) == (
        f"{root / 'infrastructure/manifest.yaml'}:4: unknown rendering_engine ['jinja']; "
        "accepted: jinja, hcl, codebuild"
    )


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (
            "templates: []\n",
            (
                ": missing key 'infrastructure' (expected infrastructure: "
                "{templates: [{file, rendering_engine, template_language}]})"
            ),
        ),
        ("", ": missing key 'infrastructure'"),
        ("infrastructure:\n  files: []\n", ":1: missing key 'infrastructure.templates'"),
        ("infrastructure:\n  templates: {}\n", ":2: 'infrastructure.templates' must be a list"),
        (
            "infrastructure:\n  templates: []\n",
            (
                ":2: 'infrastructure.templates' has 0 entries; "
                "Proton supports exactly one template entry per manifest"
            ),
        ),
        (
            (
                "infrastructure:\n  templates:\n    - file: a.yaml\n      rendering_engine: jinja\n"
                "      template_language: cloudformation\n    - file: b.yaml\n"
                "      rendering_engine: jinja\n      template_language: cloudformation\n"
            ),
            (
                ":2: 'infrastructure.templates' has 2 entries; "
                "Proton supports exactly one template entry per manifest"
            ),
        ),
        (
            "infrastructure:\n  templates:\n    - cloudformation.yaml\n",
            ":2: the template entry must be a mapping",
        ),
        (
            "infrastructure:\n  templates:\n    - file: x.yaml\n",
            ":3: missing rendering_engine (one of jinja, hcl, codebuild)",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - file: x.yaml\n"
                "      rendering_engine: jinja2\n"
                "      template_language: cloudformation\n"
            ),
            ":4: unknown rendering_engine 'jinja2'; accepted: jinja, hcl, codebuild",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - file: x.yaml\n      rendering_engine: jinja\n"
                "      template_language: cdk\n"
            ),
            ":5: unknown template_language 'cdk'; accepted: cloudformation, terraform",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - file: x.yaml\n      rendering_engine: jinja\n"
                "      template_language: terraform\n"
            ),
            ":5: rendering_engine jinja needs template_language cloudformation, not terraform",
        ),
        (
            "infrastructure:\n  templates:\n    - file: main.tf\n      rendering_engine: hcl\n",
            ":3: missing template_language (hcl needs terraform)",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - rendering_engine: jinja\n"
                "      template_language: cloudformation\n"
            ),
            ':3: missing file (the IaC file name, or "*" for every .tf file)',
        ),
        (
            (
                "infrastructure:\n  templates:\n    - file: '*'\n      rendering_engine: jinja\n"
                "      template_language: cloudformation\n"
            ),
            ':3: file "*" works only with rendering_engine hcl; name the CloudFormation file',
        ),
        (
            (
                "infrastructure:\n  templates:\n    - file: missing.yaml\n"
                "      rendering_engine: jinja\n"
                "      template_language: cloudformation\n"
            ),
            ": names file 'missing.yaml', which is not in infrastructure/",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - file: ../schema/schema.yaml\n"
                "      rendering_engine: jinja\n      template_language: cloudformation\n"
            ),
            ": file '../schema/schema.yaml' must be a path inside infrastructure/",
        ),
        (
            "infrastructure:\n  templates:\n    - rendering_engine: codebuild\n",
            ":3: rendering_engine codebuild needs a 'settings' mapping with a 'provision' list",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - rendering_engine: codebuild\n"
                "      settings:\n        image: x\n"
            ),
            ":4: settings.provision is required: the list of commands that deploy",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - rendering_engine: codebuild\n"
                "      settings:\n        provision: npm run deploy\n"
            ),
            ":5: settings.provision must be a list of shell commands (strings)",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - rendering_engine: codebuild\n"
                "      settings:\n        provision:\n          - make: deploy\n"
            ),
            ":5: settings.provision must be a list of shell commands (strings)",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - rendering_engine: codebuild\n"
                "      settings:\n        provision: [make]\n        runtimes: [nodejs]\n"
            ),
            ":6: settings.runtimes must be a mapping",
        ),
        (
            (
                "infrastructure:\n  templates:\n    - rendering_engine: codebuild\n"
                "      file: x\n      settings:\n        provision: [make]\n"
            ),
            ":4: 'file' does not apply to rendering_engine codebuild",
        ),
        ("infrastructure:\n  templates:\n    - file: x\n  oops: [\n", ":5: invalid YAML"),
    ],
)
def test_manifest_errors_name_the_manifest(tmp_path, write_tree, env_files, manifest, expected):
    env_files["infrastructure/manifest.yaml"] = manifest
    root = write_tree(tmp_path, env_files)
    message = load_error(root)
    assert message.startswith(f"{root / 'infrastructure/manifest.yaml'}{expected}")


def test_missing_manifest(tmp_path, write_tree, env_files):
    del env_files["infrastructure/manifest.yaml"]
    root = write_tree(tmp_path, env_files)
    assert load_error(root) == f"{root / 'infrastructure'}: missing manifest.yaml"


def test_binary_iac_file(tmp_path, write_tree, env_files):
    env_files["infrastructure/cloudformation.yaml"] = b"Resources: \x80\n"
    root = write_tree(tmp_path, env_files)
    assert load_error(root) == (
        f"{root / 'infrastructure/cloudformation.yaml'}: not UTF-8 text (byte 11); "
        "an IaC template file must be text"
    )


def test_star_without_tf_files(tmp_path, write_tree):
    root = write_tree(
        tmp_path,
        {
            "schema/schema.yaml": _schema("environment"),
            "infrastructure/manifest.yaml": _tf_star(),
            "infrastructure/main.tf.txt": "x",
        },
    )
    assert load_error(root) == (
        f'{root / "infrastructure/manifest.yaml"}: file "*" selects every .tf file in '
        "infrastructure/; there is none"
    )


# -- helpers ---------------------------------------------------------------------------------


def _schema(kind: str) -> str:
    key = "environment_input_type" if kind == "environment" else "service_input_type"
    return (
        'schema:\n  format:\n    openapi: "3.0.0"\n'
        f"  {key}: Input\n"
        "  types:\n    Input:\n      type: object\n      properties:\n"
        "        name:\n          type: string\n"
    )


def _tf_star() -> str:
    return (
        'infrastructure:\n  templates:\n    - file: "*"\n'
        "      rendering_engine: hcl\n      template_language: terraform\n"
    )
