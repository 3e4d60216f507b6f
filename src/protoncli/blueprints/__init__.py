"""Blueprint bundles (Proton template bundles), their versions and the registry that holds them."""
