"""The workspace: `pcli.yaml` and the spec files of environments, services and components."""
