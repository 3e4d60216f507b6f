"""pcli: Proton-compatible blueprints, rendered locally and deployed with CloudFormation."""

from __future__ import annotations

__version__ = "0.1.0"
