# Outputs are reported back as strings, so lists are joined with commas.
output "vpc_id" {
  value = aws_vpc.this.id
}

output "vpc_cidr" {
  value = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  value = join(",", aws_subnet.public[*].id)
}

output "internet_gateway_id" {
  value = aws_internet_gateway.this.id
}

output "LogGroupName" {
  value = aws_cloudwatch_log_group.this.name
}
