"""marshmallow schemas of the HTTP API (request arguments and response bodies)."""
