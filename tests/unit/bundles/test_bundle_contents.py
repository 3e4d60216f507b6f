"""Compatible environments, quotas, links in bundle folders, and the content digest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from protoncli.blueprints.bundle import bundle_digest, load_bundle
from protoncli.blueprints.model import CompatibleEnvironment, Kind
from protoncli.errors import BundleError


def load_error(path) -> str:
    with pytest.raises(BundleError) as caught:
        load_bundle(path)
    return caught.value.message


# -- compatible environments -----------------------------------------------------------------


def test_legacy_compatible_envs(tmp_path, write_tree, service_files):
    del service_files[".template-registration.yaml"]
    service_files[".compatible-envs"] = (
        "# environments this service runs on\n\nfargate-env:1\n  other_env:12  # trailing\n"
        "fargate-env:1\n"
    )
    bundle = load_bundle(write_tree(tmp_path, service_files))
    assert bundle.compatible_environments == (
        CompatibleEnvironment("fargate-env", 1),
        CompatibleEnvironment("other_env", 12),
    )
    assert bundle.component_sources == ()


def test_registration_file_wins_over_legacy_file(tmp_path, write_tree, service_files):
    service_files[".compatible-envs"] = "legacy-env:3\n"
    bundle = load_bundle(write_tree(tmp_path, service_files))
    assert [str(env) for env in bundle.compatible_environments] == ["network:1", "network:2"]
    assert ".compatible-envs" in bundle.files


def test_no_compatibility_files(tmp_path, write_tree, service_files):
    del service_files[".template-registration.yaml"]
    bundle = load_bundle(write_tree(tmp_path, service_files))
    assert bundle.compatible_environments == ()


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        (".compatible-envs", "good-env:1\n\nbad env:1\n", ":3: compatible environment 'bad env:1'"),
        (".compatible-envs", "env:01\n", ":1: compatible environment 'env:01'"),
        (".compatible-envs", "env\n", ":1: compatible environment 'env'"),
        (
            ".template-registration.yaml",
            "compatible_environments:\n  - net:1\n  - net:v2\n",
            ":3: compatible environment 'net:v2'",
        ),
        (
            ".template-registration.yaml",
            "compatible_environments:\n  - net: 1\n",
            ":2: compatible environment {'net': 1}",
        ),
        (
            ".template-registration.yaml",
            "compatible_environments: net:1\n",
            ":1: compatible_environments must be a list",
        ),
        (
            ".template-registration.yaml",
            (
                "compatible_environments: [net:1]\n"
                "supported_component_sources:\n  - DIRECTLY_DEFINED\n  - GIT\n"
            ),
            ":4: unknown component source 'GIT'; the only one is DIRECTLY_DEFINED",
        ),
        (".template-registration.yaml", "- net:1\n", ": must be a mapping"),
        (".template-registration.yaml", "compatible_environments: [\n", ":2: invalid YAML"),
    ],
)
def test_malformed_compatibility_entries(
    tmp_path, write_tree, service_files, *, file, content, expected
):
    del service_files[".template-registration.yaml"]
    service_files[file] = content
    root = write_tree(tmp_path, service_files)
    message = load_error(root)
    assert message.startswith(f"{root / file}{expected}")
    if "compatible environment" in expected:
        assert message.endswith(
            "must be NAME:MAJOR, e.g. my-env:1 (an environment blueprint name and a major version)"
        )


def test_environment_bundles_ignore_compatibility_files(tmp_path, write_tree, env_files):
    env_files[".compatible-envs"] = "not a valid line at all\n"
    bundle = load_bundle(write_tree(tmp_path, env_files))
    assert bundle.compatible_environments == ()
    assert bundle.files[".compatible-envs"] == b"not a valid line at all\n"


# -- quotas ----------------------------------------------------------------------------------


def test_schema_over_limit_in_a_tarball(tmp_path, tarball_of, env_files):
    schema = env_files["schema/schema.yaml"]
    assert isinstance(schema, str)
    env_files["schema/schema.yaml"] = schema + "#" * (61_440 - len(schema) - 1) + "\n"
    archive = tarball_of(tmp_path / "bundle.tar.gz", env_files)
    assert load_error(archive) == (
        f"{archive}: schema/schema.yaml is 61,440 bytes; "
        "Proton's limit for a schema file is 51,200 bytes"
    )


def test_manifest_over_limit(tmp_path, write_tree, env_files):
    env_files["infrastructure/manifest.yaml"] += "#" * 51_200
    root = write_tree(tmp_path, env_files)
    size = (root / "infrastructure/manifest.yaml").stat().st_size
    assert load_error(root) == (
        f"{root / 'infrastructure/manifest.yaml'} is {size:,} bytes; "
        "Proton's limit for a manifest file is 51,200 bytes"
    )


def test_template_file_over_limit(tmp_path, write_tree, env_files):
    env_files["infrastructure/cloudformation.yaml"] = "#" * 204_801
    root = write_tree(tmp_path, env_files)
    assert load_error(root) == (
        f"{root / 'infrastructure/cloudformation.yaml'} is 204,801 bytes; "
        "Proton's limit for a template file is 204,800 bytes"
    )


def test_template_file_at_limit_and_big_extra_files_pass(tmp_path, write_tree, env_files):
    env_files["infrastructure/cloudformation.yaml"] = "#" * 204_800
    env_files["docs/diagram.bin"] = b"\0" * 1_000_000  # not a template file
    bundle = load_bundle(write_tree(tmp_path, env_files))
    assert bundle.kind is Kind.ENVIRONMENT


def test_bundle_over_five_megabytes(tmp_path, write_tree, env_files):
    env_files["dev-resources/blob.bin"] = os.urandom(5 * 1024 * 1024)
    root = write_tree(tmp_path, env_files)
    total = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
    assert load_error(root) == (
        f"{root}: the bundle's files add up to {total:,} bytes; "
        "Proton's limit for a bundle is 5,242,880 bytes"
    )


def test_too_many_template_files(tmp_path, write_tree, env_files):
    del env_files["infrastructure/cloudformation.yaml"]
    env_files["infrastructure/manifest.yaml"] = (
        'infrastructure:\n  templates:\n    - file: "*"\n'
        "      rendering_engine: hcl\n      template_language: terraform\n"
    )
    for index in range(11):
        env_files[f"infrastructure/f{index:02}.tf"] = "# tf\n"
    root = write_tree(tmp_path, env_files)
    names = ", ".join(f"infrastructure/f{index:02}.tf" for index in range(11))
    assert load_error(root) == (
        f"{root}: the manifests select 11 template files ({names}); Proton's limit is 10 per bundle"
    )
    (root / "infrastructure/f10.tf").unlink()
    assert load_bundle(root).infrastructure is not None


# -- links and special files in bundle folders -----------------------------------------------


def test_links_inside_the_bundle_are_followed(tmp_path, write_tree, env_files):
    root = write_tree(tmp_path / "env", env_files)
    (root / "shared").mkdir()
    (root / "shared/tags.yaml").write_text("team: web\n")
    (root / "infrastructure/tags.yaml").symlink_to("../shared/tags.yaml")
    (root / "docs").symlink_to("shared", target_is_directory=True)
    bundle = load_bundle(root)
    assert bundle.files["infrastructure/tags.yaml"] == b"team: web\n"
    assert bundle.files["docs/tags.yaml"] == b"team: web\n"


def test_link_leaving_the_bundle(tmp_path, write_tree, env_files):
    (tmp_path / "secret.txt").write_text("password\n")
    root = write_tree(tmp_path / "env", env_files)
    (root / "infrastructure/secret.txt").symlink_to(tmp_path / "secret.txt")
    assert load_error(root) == (
        f"{root / 'infrastructure/secret.txt'}: symbolic link to '{tmp_path / 'secret.txt'}' "
        "leads outside the bundle"
    )


def test_relative_link_leaving_the_bundle(tmp_path, write_tree, env_files):
    (tmp_path / "outside").mkdir()
    root = write_tree(tmp_path / "env", env_files)
    (root / "up").symlink_to("../outside", target_is_directory=True)
    assert (
        load_error(root) == f"{root / 'up'}: symbolic link to '../outside' leads outside the bundle"
    )


def test_broken_link_and_link_loop(tmp_path, write_tree, env_files):
    root = write_tree(tmp_path / "a", env_files)
    (root / "gone.txt").symlink_to("nowhere.txt")
    assert load_error(root) == f"{root / 'gone.txt'}: broken symbolic link to 'nowhere.txt'"
    root = write_tree(tmp_path / "b", env_files)
    (root / "infrastructure/again").symlink_to("..", target_is_directory=True)
    assert load_error(root) == (
        f"{root / 'infrastructure/again'}: symbolic link loop (leads to a parent)"
    )


def test_fifo_in_a_bundle_folder(tmp_path, write_tree, env_files):
    root = write_tree(tmp_path, env_files)
    os.mkfifo(root / "pipe")
    assert load_error(root) == (
        f"{root / 'pipe'}: not a regular file or folder (a device, FIFO or socket)"
    )


def test_git_folder_is_left_out(tmp_path, write_tree, env_files):
    env_files[".git/HEAD"] = "ref: refs/heads/main\n"
    bundle = load_bundle(write_tree(tmp_path, env_files))
    assert not any(path.startswith(".git") for path in bundle.files)


# -- digest ----------------------------------------------------------------------------------


def test_digest_is_stable_across_folders_tarballs_order_and_mtimes(
    tmp_path, write_tree, tarball_of, env_files
):
    folder = load_bundle(write_tree(tmp_path / "dir", env_files))
    os.utime(tmp_path / "dir/README.md", (0, 0))
    again = load_bundle(tmp_path / "dir")
    forward = load_bundle(tarball_of(tmp_path / "a.tgz", env_files, mtime=1))
    backward = load_bundle(
        tarball_of(
            tmp_path / "b.tgz",
            dict(reversed(env_files.items())),
            prefix="wrapper/",
            mtime=2_000_000_000,
        )
    )
    digest = bundle_digest(folder)
    assert digest.startswith("sha256:")
    assert len(digest) == len("sha256:") + 64
    assert bundle_digest(again) == digest
    assert bundle_digest(forward) == digest
    assert bundle_digest(backward) == digest


def test_digest_ignores_os_noise_but_not_content(tmp_path, write_tree, env_files):
    digest = bundle_digest(load_bundle(write_tree(tmp_path / "a", env_files)))
    noisy = dict(env_files)
    noisy[".DS_Store"] = b"\0\0\0\1Bud1"
    noisy["infrastructure/__pycache__/x.cpython-311.pyc"] = b"\xa7\r\r\n"
    noisy["._README.md"] = b"\0\5\26\7"
    assert bundle_digest(load_bundle(write_tree(tmp_path / "b", noisy))) == digest

    changed = dict(env_files)
    changed["README.md"] = "# networK\n"
    assert bundle_digest(load_bundle(write_tree(tmp_path / "c", changed))) != digest
    renamed = dict(env_files)
    renamed["README.txt"] = renamed.pop("README.md")
    assert bundle_digest(load_bundle(write_tree(tmp_path / "d", renamed))) != digest
    extra = dict(env_files)
    extra["empty.txt"] = ""
    assert bundle_digest(load_bundle(write_tree(tmp_path / "e", extra))) != digest


def test_digest_separates_path_from_content():
    # Without separators, ("ab", b"c") and ("a", b"bc") would hash alike.
    from protoncli.blueprints.model import Bundle

    first = Bundle(
        root="x", kind=Kind.COMPONENT, schema=None, infrastructure=None, files={"ab": b"c"}
    )
    second = Bundle(
        root="x", kind=Kind.COMPONENT, schema=None, infrastructure=None, files={"a": b"bc"}
    )
    assert bundle_digest(first) != bundle_digest(second)


# -- the repository's starter blueprints -----------------------------------------------------


def test_starter_blueprints_load(starters_dir: Path):
    kinds = {}
    for folder in sorted(starters_dir.iterdir()):
        if (folder / "v1").is_dir():
            kinds[folder.name] = load_bundle(folder / "v1").kind
    assert Kind.ENVIRONMENT in kinds.values()
    assert Kind.SERVICE in kinds.values()


def test_tar_modes_and_owners_do_not_change_the_digest(tmp_path, make_tarball, member, env_files):
    plain, odd = [], []
    for name, content in env_files.items():
        data = content.encode() if isinstance(content, str) else content
        plain.append(member(name, data))
        info, _ = member(name, data)
        info.mode = 0o600
        info.uid, info.gid, info.uname = 1234, 5678, "someone"
        odd.append((info, data))
    first = load_bundle(make_tarball(tmp_path / "plain.tgz", plain))
    second = load_bundle(make_tarball(tmp_path / "odd.tgz", odd))
    assert bundle_digest(first) == bundle_digest(second)
