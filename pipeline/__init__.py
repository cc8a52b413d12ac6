"""The stage layer: each refresh stage's decisions as plain functions over the ports."""
