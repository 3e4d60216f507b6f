"""Deploying rendered templates as CloudFormation stacks: change sets, waiting, events, results."""
