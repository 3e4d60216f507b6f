"""The state model: what the workspace declares, what AWS runs, and the one join of the two.

- `identity`: what an item is (kind and names), its stack name and the `pcli:*` tags that say
  so on the stack, read back from those tags.
- `declared`: the workspace's spec files and component records, read once.
- `deployed`: every stack of the workspace, from one paginated DescribeStacks per account and
  region.
- `fleet`: the join by identity, per item: declared, deployed, pending, orphaned, versions.

`deploy/` acts (change sets, deletions) on what this package describes; `status`, the lists,
delete protection, `plan`, `apply` and `upgrade` read `fleet` and derive nothing on their own.

Allowed imports: this package reads the workspace, the registry and AWS through the project
(`protoncli.deploy.project`) and uses the engine's data classes (`protoncli.deploy.model`); no
other part of `deploy/` is imported here (the layering test holds this).
"""
