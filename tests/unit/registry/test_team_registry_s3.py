"""A team registry in S3, on the real moto server over HTTP: its objects, publishers racing,
an index that changes between read and write, content changed after publishing, a corrupted
cache."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import boto3
import pytest

from protoncli.aws.registry_bucket import RegistryBucket
from protoncli.blueprints import remote
from protoncli.blueprints.bundle import bundle_digest, load_bundle
from protoncli.blueprints.location import Access, open_location, parse_remote
from protoncli.blueprints.remote import RemoteRegistry
from protoncli.errors import AwsError, ExitCode, RegistryError

BUCKET = "team-blueprints"
URL = f"s3://{BUCKET}/platform"


@pytest.fixture
def s3(moto_url):
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def team_registry(cache: Path | None = None) -> RemoteRegistry:
    """A publisher or reader of URL; `cache`: its own cache folder (another machine)."""
    if cache is None:
        registry = open_location(URL)
        assert isinstance(registry, RemoteRegistry)
        return registry
    return RemoteRegistry(RegistryBucket.open(parse_remote(URL), Access()), cache)


def index_of(s3) -> dict:
    body = s3.get_object(Bucket=BUCKET, Key="platform/index.json")["Body"].read()
    return json.loads(body)["blueprints"]


def test_publish_writes_an_archive_per_content_and_an_index_that_a_new_reader_reads(
    s3, bundles, tmp_path
):
    first = bundles.environment("v1", description="one")
    second = bundles.environment("v2", description="two")

    publisher = team_registry()
    assert publisher.publish(first, name="network").version.version == "1.0"
    assert publisher.publish(second, name="network", draft=True).version.version == "1.1"
    assert publisher.publish(first, name="network").created is False  # identical content

    digests = [bundle_digest(load_bundle(path)) for path in (first, second)]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == sorted(
        ["platform/index.json"]
        + [f"platform/network/{d.replace(':', '-')}.tar.gz" for d in digests]
    )
    index = index_of(s3)["network"]
    assert {v: (r["digest"], r["status"]) for v, r in index.items()} == {
        "1.0": (digests[0], "PUBLISHED"),
        "1.1": (digests[1], "DRAFT"),
    }

    reader = team_registry(tmp_path / "other-machine")
    assert reader.names() == ["network"]
    assert [(v.version, v.recommended) for v in reader.versions("network")] == [
        ("1.0", True),
        ("1.1", False),
    ]
    assert bundle_digest(reader.load(reader.get("network", "1.1"))) == digests[1]
    # The cache is a folder registry: records for every version, files once fetched.
    assert (tmp_path / "other-machine" / "network" / "1.1" / "bundle").is_dir()
    assert not (tmp_path / "other-machine" / "network" / "1.0" / "bundle").exists()

    promoted = publisher.promote("network", "1.1")
    assert promoted.recommended
    assert index_of(s3)["network"]["1.1"]["status"] == "PUBLISHED"
    assert team_registry(tmp_path / "third").get("network").version == "1.1"


def test_a_missing_bucket_is_one_clear_error(moto_url, bundles):
    with pytest.raises(AwsError) as caught:
        team_registry().publish(bundles.environment(), name="network")

    assert caught.value.exit_code == ExitCode.ERROR
    assert caught.value.message == f"the bucket of registry {URL} does not exist"
    assert "aws s3 mb s3://team-blueprints" in caught.value.hint


def test_two_publishers_that_read_the_same_index_both_land_with_distinct_versions(
    s3, bundles, tmp_path
):
    team_registry().publish(bundles.environment("base", description="base"), name="network")
    both_read = threading.Barrier(2, timeout=30)
    publishers = [team_registry(tmp_path / f"machine-{k}") for k in range(2)]
    for publisher in publishers:
        read = publisher.store.read_index
        calls = []

        def read_then_wait(read=read, calls=calls):
            answer = read()
            calls.append(1)
            if len(calls) == 1:
                both_read.wait()  # neither writes before both have read the same index
            return answer

        publisher.store.read_index = read_then_wait
    sources = [bundles.environment(f"edit-{k}", description=f"edit {k}") for k in range(2)]
    results: list = [None, None]

    def publish(k: int) -> None:
        results[k] = publishers[k].publish(sources[k], name="network")

    threads = [threading.Thread(target=publish, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    versions = sorted(result.version.version for result in results)
    assert versions == ["1.1", "1.2"]
    assert all(result.created for result in results)
    index = index_of(s3)["network"]
    assert sorted(index) == ["1.0", "1.1", "1.2"]
    for result in results:
        assert index[result.version.version]["digest"] == result.version.digest


def test_many_publishers_racing_never_lose_or_share_a_version(s3, bundles, tmp_path):
    per_thread, threads_count = 3, 4
    sources = {
        k: [bundles.environment(f"t{k}-{n}", description=f"t{k} n{n}") for n in range(per_thread)]
        for k in range(threads_count)
    }
    start = threading.Event()
    published: list = []

    def publisher(k: int) -> None:
        registry = team_registry(tmp_path / f"cache-{k}")
        start.wait()
        published.extend(registry.publish(source, name="shared").version for source in sources[k])

    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(threads_count)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()

    total = per_thread * threads_count
    assert sorted(v.minor for v in published) == list(range(total))
    index = index_of(s3)["shared"]
    assert len(index) == total
    assert {index[v.version]["digest"] for v in published} == {v.digest for v in published}


def test_an_index_changed_between_read_and_write_is_read_again_and_both_versions_land(
    s3, bundles, tmp_path
):
    mine = team_registry(tmp_path / "mine")
    theirs = team_registry(tmp_path / "theirs")
    theirs.publish(bundles.environment("first", description="first"), name="network")
    read = mine.store.read_index
    reads = []

    def read_then_someone_publishes():
        answer = read()
        reads.append(1)
        if len(reads) == 1:  # after my read, before my write
            theirs.publish(bundles.environment("theirs", description="theirs"), name="network")
        return answer

    mine.store.read_index = read_then_someone_publishes
    result = mine.publish(bundles.environment("mine", description="mine"), name="network")

    assert len(reads) == 2  # the refused write was decided again on a fresh read
    assert result.version.version == "1.2"
    assert sorted(index_of(s3)["network"]) == ["1.0", "1.1", "1.2"]


def test_an_index_that_keeps_changing_fails_with_one_message_and_loses_nothing(
    s3, bundles, tmp_path, monkeypatch
):
    monkeypatch.setattr(remote, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(remote, "_pause", lambda _attempt: None)
    mine = team_registry(tmp_path / "mine")
    theirs = team_registry(tmp_path / "theirs")
    read = mine.store.read_index
    count = iter(range(100))

    def read_then_someone_publishes():
        answer = read()
        n = next(count)
        theirs.publish(bundles.environment(f"theirs-{n}", description=f"n{n}"), name="network")
        return answer

    mine.store.read_index = read_then_someone_publishes
    with pytest.raises(RegistryError) as caught:
        mine.publish(bundles.environment("mine", description="mine"), name="network")

    assert caught.value.exit_code == ExitCode.ERROR
    assert caught.value.message == (
        f"{URL}: the registry's index changed before each of 3 attempts to publish network "
        "could be written (others are publishing); nothing was written"
    )
    assert caught.value.hint.startswith("run the command again")
    assert sorted(index_of(s3)["network"]) == ["1.0", "1.1", "1.2"]  # all of theirs, kept
    assert team_registry(tmp_path / "reader").load(team_registry(tmp_path / "r2").get("network"))


def test_an_archive_whose_content_changed_is_refused_naming_the_version(s3, bundles, tmp_path):
    source = bundles.environment("v1", description="one")
    info = team_registry().publish(source, name="network").version
    forged = remote.NewVersion(info, {**load_bundle(source).files, "README.md": b"# changed\n"})
    key = f"platform/network/{info.digest.replace(':', '-')}.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=forged.archive())

    reader = team_registry(tmp_path / "reader")
    with pytest.raises(RegistryError) as caught:
        reader.load(reader.get("network", "1.0"))

    assert caught.value.message.startswith(
        f"blueprint network@1.0 in {URL} changed after it was published"
    )
    assert not (tmp_path / "reader" / "network" / "1.0" / "bundle").exists()


def test_an_index_that_gives_a_read_version_another_digest_is_refused(s3, bundles, tmp_path):
    team_registry().publish(bundles.environment("v1", description="one"), name="network")
    reader = team_registry(tmp_path / "reader")
    reader.load(reader.get("network", "1.0"))
    document = json.loads(s3.get_object(Bucket=BUCKET, Key="platform/index.json")["Body"].read())
    document["blueprints"]["network"]["1.0"]["digest"] = "sha256:" + "0" * 64
    s3.put_object(Bucket=BUCKET, Key="platform/index.json", Body=json.dumps(document).encode())

    with pytest.raises(RegistryError) as caught:
        team_registry(tmp_path / "reader").versions("network")

    assert caught.value.message.startswith(
        f"blueprint network@1.0 in {URL} changed after it was published (the index now says"
    )


def test_a_corrupted_cached_version_is_refused_naming_it_and_how_to_clear_it(s3, bundles):
    info = team_registry().publish(bundles.environment(), name="network").version
    reader = team_registry()
    bundle_dir = reader.bundle_dir(reader.get("network", "1.0"))
    template = bundle_dir / "infrastructure" / "cloudformation.yaml"
    template.chmod(0o644)
    template.write_text(template.read_text() + "# edited in the cache\n")

    again = team_registry()
    with pytest.raises(RegistryError) as caught:
        again.load(again.get("network", "1.0"))

    assert caught.value.exit_code == ExitCode.ERROR
    assert caught.value.message.startswith(
        f"blueprint network@1.0: the cached copy in {bundle_dir} is corrupted"
    )
    assert caught.value.hint == (
        f"delete the cached copy (pcli fetches it again from {URL}): rm -rf '{bundle_dir}'"
    )
    shutil.rmtree(bundle_dir)  # what the hint says; the registry itself lost nothing
    fresh = team_registry()
    assert bundle_digest(fresh.load(fresh.get("network", "1.0"))) == info.digest
