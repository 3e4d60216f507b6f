"""Local rendering of bundles: CloudFormation through Jinja, Terraform and CodeBuild inputs."""
