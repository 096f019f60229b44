"""HTTP routers beside the core routes of `qa.api`: one module per resource, each included by `create_app`."""
