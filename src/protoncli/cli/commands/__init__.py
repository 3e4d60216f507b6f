"""One module per command group, loaded only when its group is invoked."""
