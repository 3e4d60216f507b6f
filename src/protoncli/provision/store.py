"""Reading and writing provisioned state (`provision/state.py`) in the artifact bucket of an
account and region."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from protoncli.errors import PcliError
from protoncli.provision.state import (
    DEPLOYMENTS_PREFIX,
    EXTERNAL,
    STATE_PREFIX,
    ProvisionedState,
    deployment_key,
    state_key,
)

if TYPE_CHECKING:
    from protoncli.aws.s3 import ArtifactStore
    from protoncli.deploy.model import StackInfo
    from protoncli.deploy.project import Project
    from protoncli.provision.request import Provisioned

READERS = 8
FOLDERS_PREFIX = "provisioned-folders/"


def read_states(store: ArtifactStore) -> list[ProvisionedState]:
    """Every provisioned item of the bucket (of every workspace): one listing, then the
    objects side by side."""
    keys = [key for key in store.keys_if_any(STATE_PREFIX) if key.endswith(".json")]
    if not keys:
        return []

    def read(key: str) -> ProvisionedState | None:
        document = store.record_if_any(key)
        return None if document is None else ProvisionedState.from_document(key, document)

    with ThreadPoolExecutor(min(READERS, len(keys)), thread_name_prefix="pcli-state") as pool:
        return [state for state in pool.map(read, keys) if state is not None]


def read_state(store: ArtifactStore, name: str) -> ProvisionedState | None:
    key = state_key(name)
    document = store.record_if_any(key)
    return None if document is None else ProvisionedState.from_document(key, document)


def write_state(store: ArtifactStore, state: ProvisionedState) -> None:
    store.put_record(state_key(state.name), state.document())


def delete_state(store: ArtifactStore, name: str) -> None:
    store.delete_record(state_key(name))


def write_folder(store: ArtifactStore, name: str, provisioned: Provisioned) -> None:
    """Keep the rendered folder a deployment ran: a deletion destroys what it made, from any
    machine, even once the spec file is gone (an orphan pruned)."""
    store.put_record(f"{FOLDERS_PREFIX}{name}.json", provisioned.document())


def read_folder(store: ArtifactStore, name: str) -> Provisioned | None:
    from protoncli.provision.request import Provisioned

    key = f"{FOLDERS_PREFIX}{name}.json"
    document = store.record_if_any(key)
    return None if document is None else Provisioned.from_document(key, document)


def delete_folder(store: ArtifactStore, name: str) -> None:
    store.delete_record(f"{FOLDERS_PREFIX}{name}.json")


def remember_deployment(store: ArtifactStore, deployment_id: str, name: str) -> None:
    """Name the item a deployment id belongs to, for `pcli notify`."""
    store.put_record(deployment_key(deployment_id), {"format": 1, "name": name})


def forget_deployment(store: ArtifactStore, deployment_id: str) -> None:
    store.delete_record(deployment_key(deployment_id))


def item_of_deployment(store: ArtifactStore, deployment_id: str) -> str | None:
    """The name of the item `deployment_id` deploys, None when the bucket knows no such id."""
    document = store.record_if_any(deployment_key(deployment_id))
    if document is None:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise PcliError(f"{DEPLOYMENTS_PREFIX}{deployment_id}.json cannot be read")
    return str(document["name"])


def state_of(
    project: Project, region: str, account: str | None, name: str
) -> ProvisionedState | None:
    """The provisioned state named `name` in the region (of the account), None when none."""
    return read_state(project.artifacts(region, account), name)


def describe_item(
    project: Project, region: str, account: str | None, name: str
) -> StackInfo | None:
    """The item named `name` as a stack's description: its stack, else its provisioned state
    (read only when there is no such stack), None when neither exists."""
    info = project.cloudformation(region, account).describe(name)
    if info is not None:
        return info
    state = state_of(project, region, account, name)
    if state is None:
        return None
    info = state.stack_info()
    stack = state.source.removeprefix("stack ") if state.source else None
    if state.provisioning != EXTERNAL or not stack or stack == state.source:
        return info
    live = project.cloudformation(region, account).describe(stack)  # as it is now
    if live is None:
        return replace(info, outputs={}, status_reason=f"its stack {stack} no longer exists")
    return replace(info, outputs=dict(live.outputs))
