"""Proton spec files (EnvironmentSpec, ServiceSpec) plus pcli's header keys."""
