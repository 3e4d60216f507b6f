resource "aws_ssm_parameter" "instances" {
  name  = "/${var.service.name}/instances"
  type  = "StringList"
  value = join(",", [for instance in var.service_instances : instance.name])
}
