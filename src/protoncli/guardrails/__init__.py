"""Guardrails: rules every rendered CloudFormation template must pass before it deploys.

Rules are written in AWS CloudFormation Guard's language and run by Guard's own engine
(`cfn-guard-rs`, which embeds it); docs/reference/guardrails.md says why Guard and how to write
them. A blueprint carries its rules in its bundle (`guardrails/`); a folder registry may carry
rules for every blueprint it holds (`<registry>/.guardrails/`).

- `rules.py`: rule sets: reading the files, naming their rules, their severities.
- `check.py`: running a rule set on a template: the violations, by rule, resource and property.

Nothing here prints or talks to AWS: the deploy gate (`deploy/guardrails.py`) and `blueprint
lint` turn violations into events and findings.
"""
