"""HTTP around the engine: the JSON API, its OpenAPI document, and serving hardening."""
