"""The only code that talks to AWS (boto3): sessions, error translation, CloudFormation, S3."""
