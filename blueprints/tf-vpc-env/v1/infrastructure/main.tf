# Inputs arrive as strings (the generated variables are map(string)), so numbers are converted here.
locals {
  name                = var.environment.name
  vpc_cidr            = var.environment.inputs.vpc_cidr
  public_subnet_count = tonumber(var.environment.inputs.public_subnet_count)
  subnet_newbits      = tonumber(var.environment.inputs.subnet_newbits)
  log_retention_days  = tonumber(var.environment.inputs.log_retention_days)
}

data "aws_availability_zones" "available" {
  state = "available"
}

resource "aws_vpc" "this" {
  cidr_block           = local.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = local.name
  }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = local.name
  }
}

resource "aws_subnet" "public" {
  count = local.public_subnet_count

  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(local.vpc_cidr, local.subnet_newbits, count.index)
  availability_zone       = data.aws_availability_zones.available.names[count.index]
  map_public_ip_on_launch = true

  tags = {
    Name = "${local.name}-public-${count.index + 1}"
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }

  tags = {
    Name = "${local.name}-public"
  }
}

resource "aws_route_table_association" "public" {
  count = local.public_subnet_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# The log group services in this environment write to (lambda-api-svc reads LogGroupName).
resource "aws_cloudwatch_log_group" "this" {
  name              = "/pcli/${local.name}"
  retention_in_days = local.log_retention_days

  tags = {
    Name = local.name
  }
}
