locals {
  has_component = can(var.service_instance.components.default)
}

resource "aws_ssm_parameter" "port" {
  name  = "/${var.service.name}/${var.service_instance.name}/port"
  type  = "String"
  value = var.service_instance.inputs.port
}
