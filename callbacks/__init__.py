"""Dash wiring: thin callbacks that parse, validate, call the engine and shape the output."""
