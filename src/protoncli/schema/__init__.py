"""Proton's OpenAPI schema subset: parsing, validation of spec values, defaults."""
