"""Provisioning other than CloudFormation: Terraform, CodeBuild commands, pull requests."""
