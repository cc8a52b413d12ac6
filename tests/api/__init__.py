"""Tests of the read-only API."""
