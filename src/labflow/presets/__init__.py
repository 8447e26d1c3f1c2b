"""The bundled policies, one TOML file each; load them by name with `labflow.load_policy`."""
