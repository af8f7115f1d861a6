"""Services: what the screens and the CLI call. Rules live here and in domain."""
