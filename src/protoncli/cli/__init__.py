"""The command-line layer: parses, calls one core function, renders its result."""
