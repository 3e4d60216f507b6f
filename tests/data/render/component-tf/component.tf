resource "aws_s3_bucket" "this" {
  bucket = "${var.environment.name}-${var.component.name}"
}
